// Node mode (`workers: N`): several data-plane Workers serve one port with SO_REUSEPORT,
// metrics are summed in the shared stats block, access-log lines come through the rings,
// and a Worker that stops responding is replaced while the others keep their connections.
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { Logger, systemClock } from "../../src/core/mod.ts";
import { WorkerNode } from "../../src/runtime/worker_node.ts";
import {
  freePort,
  promtoolCheck,
  promtoolInstalled,
  RawConn,
  spawnSkiff,
  startHttpUpstream,
  waitFor,
} from "../_harness/mod.ts";
import { clusterView, metricsText, sample } from "./_admin_api.ts";

interface TestNode {
  node: WorkerNode;
  url: string;
  adminUrl: string;
  logs: Record<string, unknown>[];
  [Symbol.asyncDispose](): Promise<void>;
}

async function startNode(
  yaml: string,
  workers: number,
  opts: { heartbeatTimeoutMs?: number } = {},
): Promise<TestNode> {
  const config = parseConfig(yaml, "node.yaml");
  const logs: Record<string, unknown>[] = [];
  const log = new Logger({
    clock: systemClock,
    sink: (line) => logs.push(JSON.parse(line)),
    level: "info",
  });
  const node = new WorkerNode(config, workers, {
    clock: systemClock,
    log,
    logLevel: "warn",
    testHooks: true,
    ...opts,
  });
  await node.start();
  const l = config.listeners[0].address;
  return {
    node,
    url: `http://127.0.0.1:${l.port}`,
    adminUrl: `http://127.0.0.1:${node.admin!.addr.port}`,
    logs,
    [Symbol.asyncDispose]: () => node.stop(),
  };
}

function nodeYaml(port: number, upstream: number, extra = ""): string {
  return `
admin: { address: "127.0.0.1:0" }
listeners:
  - name: web
    address: 127.0.0.1:${port}
    routes: [{ name: all, cluster: c }]
clusters:
  - name: c
    endpoints: [{ address: "127.0.0.1:${upstream}" }]
${extra}`;
}

Deno.test("workers: two Workers share the port; metrics, /clusters and access log add up", async () => {
  await using up = startHttpUpstream("up");
  const dir = await Deno.makeTempDir();
  const logFile = `${dir}/access.log`;
  await using n = await startNode(
    nodeYaml(freePort(), up.port, `access_log: { sink: file, path: "${logFile}" }`),
    2,
  );
  assert.equal(n.node.serving, 2);
  assert.equal((await fetch(`${n.adminUrl}/ready`)).status, 200);

  // Separate connections, so that the kernel spreads them over both Workers.
  const total = 40;
  for (let i = 0; i < total; i++) {
    const res = await fetch(`${n.url}/r/${i}`, { headers: { connection: "close" } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "up");
  }
  assert.equal(up.requests.length, total);

  // Every Worker counted into the same shared cells: the sum is exact. (A Worker records an
  // exchange just after its last byte went out, and its series one after another while the
  // main isolate may be reading: the last request may lag the client a little.)
  const labels = { listener: "web", route: "all", cluster: "c", code_class: "2xx" };
  const durations = { listener: "web", route: "all", cluster: "c" };
  const text = (await waitFor("every request counted", async () => {
    const t = await metricsText(n.adminUrl);
    const counted = (sample(t, "skiff_requests_total", labels) ?? 0) >= total &&
      (sample(t, "skiff_request_duration_seconds_count", durations) ?? 0) >= total;
    return counted ? t : undefined;
  }))!;
  assert.equal(sample(text, "skiff_requests_total", labels), total);
  assert.equal(sample(text, "skiff_request_duration_seconds_count", durations), total);
  assert.equal(sample(text, "skiff_workers"), 2);
  assert.equal(sample(text, "skiff_downstream_connections_total", { listener: "web" }), total);
  if (await promtoolInstalled()) {
    const check = await promtoolCheck(text);
    assert.equal(check.code, 0, check.output);
  }

  // Both Workers served (the kernel spreads the 40 connections over the two sockets), and
  // their own reports add up to the total.
  const perWorker = (await waitFor("both Workers' reports", () => {
    const counts = n.node.reports().map((r) => r[0]?.requests ?? 0);
    return counts[0] + counts[1] === total ? counts : undefined;
  }))!;
  assert.ok(perWorker.every((c) => c > 0), `each Worker served some: ${perWorker}`);

  // /clusters adds the Workers' reports (sent every second).
  const c = (await waitFor("both Workers' reports on /clusters", async () => {
    const view = await clusterView(n.adminUrl, "c");
    return view.requests === total ? view : undefined;
  }))!;
  assert.equal(c.endpoints[0].requests, total);

  // One access-log line per request, written by the main isolate.
  const lines = (await waitFor("every access-log line", async () => {
    const t = await Deno.readTextFile(logFile).catch(() => "");
    const ls = t.split("\n").filter((l) => l !== "");
    return ls.length >= total ? ls : undefined;
  }))!;
  assert.equal(lines.length, total);
  const paths = new Set(lines.map((l) => JSON.parse(l).path));
  for (let i = 0; i < total; i++) assert.ok(paths.has(`/r/${i}`), `line for /r/${i}`);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("workers: a Worker that ends is replaced; the other Worker's connections live on", async () => {
  await using up = startHttpUpstream("up");
  await using n = await startNode(nodeYaml(freePort(), up.port), 2);
  const port = Number(new URL(n.url).port);
  // Keep-alive connections opened before the failure; the kernel spreads them.
  const conns: RawConn[] = [];
  for (let i = 0; i < 24; i++) {
    const c = await RawConn.connect(port);
    await c.send(`GET /before/${i} HTTP/1.1\r\nhost: t\r\n\r\n`);
    assert.equal((await c.readResponse()).status, 200);
    conns.push(c);
  }
  n.node.control(0, { kind: "exit" });
  await waitFor("the ended Worker replaced", async () => {
    const text = await metricsText(n.adminUrl);
    return sample(text, "skiff_worker_restarts_total", { reason: "exited" }) === 1 &&
      n.node.serving === 2;
  }, 20_000);
  assert.equal((await fetch(`${n.adminUrl}/ready`)).status, 200);

  // Connections of the healthy Worker still work; those of the ended one are gone.
  let alive = 0;
  for (const [i, c] of conns.entries()) {
    try {
      await c.send(`GET /after/${i} HTTP/1.1\r\nhost: t\r\n\r\n`);
      if ((await c.readResponse({ timeoutMs: 2_000 })).status === 200) alive++;
    } catch { /* served by the replaced Worker */ }
    c.close();
  }
  assert.ok(alive >= 1, "connections on the other Worker survive the replacement");
  // New connections reach a serving Worker every time.
  for (let i = 0; i < 20; i++) {
    const res = await fetch(`${n.url}/new/${i}`, { headers: { connection: "close" } });
    assert.equal(res.status, 200);
    await res.body?.cancel();
  }
  assert.ok(n.logs.some((l) => l.msg === "replacing worker" && l.reason === "exited"));
  assert.ok(alive < conns.length, "the ended Worker's connections were dropped");
});

Deno.test("workers: a port another process holds fails the start with the reason", async () => {
  await using up = startHttpUpstream("up");
  const port = freePort();
  const holder = Deno.listen({ hostname: "127.0.0.1", port }); // without SO_REUSEPORT
  try {
    await assert.rejects(
      () => startNode(nodeYaml(port, up.port), 2),
      (err: Error) => {
        assert.match(err.message, /Worker \d cannot serve config 1: .*(in use|Address)/i);
        return true;
      },
    );
  } finally {
    holder.close();
  }
});

Deno.test("workers: `skiff run` with workers: 2 serves and stops on SIGTERM", async () => {
  await using up = startHttpUpstream("up");
  const dir = await Deno.makeTempDir();
  const admin = freePort();
  const port = freePort();
  const file = `${dir}/skiff.yaml`;
  await Deno.writeTextFile(
    file,
    nodeYaml(port, up.port).replace('"127.0.0.1:0"', `"127.0.0.1:${admin}"`) + "workers: 2\n",
  );
  const p = await spawnSkiff(["run", "-c", file], `http://127.0.0.1:${admin}/ready`);
  try {
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: "close" } });
      assert.equal(await res.text(), "up");
    }
    assert.match(p.stderr(), /"workers":2/);
  } finally {
    assert.equal(await p.stop(), 0, p.stderr());
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("workers: without --unstable-net skiff refuses to start and says why", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/skiff.yaml`;
  await Deno.writeTextFile(file, nodeYaml(freePort(), 9) + "workers: 2\n");
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        new URL("../../src/main.ts", import.meta.url).pathname,
        "run",
        "-c",
        file,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, err);
    assert.match(err, /cannot start.*--unstable-net/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("workers: a Worker that stops reporting is replaced and skiff reports not ready", async () => {
  await using up = startHttpUpstream("up");
  await using n = await startNode(nodeYaml(freePort(), up.port), 2, { heartbeatTimeoutMs: 2500 });
  assert.equal((await fetch(`${n.adminUrl}/ready`)).status, 200);
  n.node.control(1, { kind: "block", ms: 8_000 });
  await waitFor("the silent Worker declared unresponsive", async () => {
    const text = await metricsText(n.adminUrl);
    return sample(text, "skiff_worker_restarts_total", { reason: "unresponsive" }) === 1;
  }, 15_000);
  // A stuck Worker may keep its socket (Deno cannot stop it): not ready, for a restart.
  const ready = await fetch(`${n.adminUrl}/ready`);
  assert.equal(ready.status, 503);
  await ready.body?.cancel();
  assert.ok(
    n.logs.some((l) => l.msg === "worker unresponsive; replacing it, and skiff is no longer ready"),
  );
  await waitFor("the replacement serving", () => n.node.serving === 2, 15_000);
});

Deno.test("workers: a reload reaches every Worker; a port taken rolls every Worker back", async () => {
  await using one = startHttpUpstream("one");
  await using two = startHttpUpstream("two");
  const port = freePort();
  await using n = await startNode(nodeYaml(port, one.port), 2);
  assert.equal(await (await fetch(n.url + "/")).text(), "one");
  const out = await n.node.reload(parseConfig(nodeYaml(port, two.port), "node.yaml"));
  assert.equal(out.ok, true, out.error ?? "");
  assert.equal(out.version, 2);
  // New connections land on either Worker: each must route to the new upstream.
  for (let i = 0; i < 20; i++) {
    const res = await fetch(n.url + "/", { headers: { connection: "close" } });
    assert.equal(await res.text(), "two");
  }
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const bad = nodeYaml(port, one.port).replace(
    "clusters:",
    `  - name: extra\n    address: 127.0.0.1:${taken.addr.port}\n    routes: [{ cluster: c }]\nclusters:`,
  );
  const refused = await n.node.reload(parseConfig(bad, "node.yaml"));
  assert.equal(refused.ok, false);
  assert.equal(refused.version, 2);
  for (let i = 0; i < 20; i++) {
    const res = await fetch(n.url + "/", { headers: { connection: "close" } });
    assert.equal(await res.text(), "two", "every Worker is back on the running config");
  }
  assert.equal(n.node.ready, true);
});

Deno.test("workers: a drain lets a request in flight finish, then the node stops", async () => {
  const gate = Promise.withResolvers<void>();
  const arrived = Promise.withResolvers<void>();
  await using up = startHttpUpstream("up", async () => {
    arrived.resolve();
    await gate.promise;
    return new Response("late");
  });
  const port = freePort();
  await using n = await startNode(nodeYaml(port, up.port), 2);
  const slow = fetch(n.url + "/").then(async (r) => [r.status, await r.text()]);
  await arrived.promise;
  const drained = n.node.drain("test");
  await waitFor("not ready once draining", () => !n.node.ready);
  gate.resolve();
  assert.deepEqual(await slow, [200, "late"]);
  await drained;
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port }));
});

Deno.test("workers: each Worker's shadow check reaches /config/diff, and a guard refuses for all", async () => {
  await using one = startHttpUpstream("one");
  const port = freePort();
  const yaml = (routes: string) => `
admin: { address: "127.0.0.1:0" }
reload: { shadow: true, shadow_requests: 100 }
listeners:
  - name: web
    address: 127.0.0.1:${port}
    routes:
${routes}
clusters:
  - name: c
    endpoints: [{ address: "127.0.0.1:${one.port}" }]
`;
  const api = "      - { name: api, match: { prefix: /api }, cluster: c }\n";
  const rest = "      - { name: rest, cluster: c }\n";
  await using n = await startNode(yaml(api + rest), 2);
  // New connections spread over both Workers: each records some /api requests.
  for (let i = 0; i < 40; i++) {
    await (await fetch(n.url + "/api/x", { headers: { connection: "close" } })).text();
  }
  const out = await n.node.reload(parseConfig(yaml(rest), "node.yaml"));
  assert.equal(out.ok, false);
  assert.match(out.error ?? "", /route "api"/);
  const diff = await (await fetch(`${n.adminUrl}/config/diff`)).json();
  assert.equal(diff.workers.length, 2);
  const reports = diff.workers.filter((r: { ok: boolean } | null) => r !== null);
  assert.ok(reports.length >= 1, JSON.stringify(diff));
  assert.ok(reports.some((r: { ok: boolean }) => r.ok === false), JSON.stringify(diff));
  assert.equal(await (await fetch(n.url + "/api/x")).text(), "one", "still served");
});

/** A node config routing everything to `upstream`; `routeName` tells versions apart. */
function versionYaml(port: number, upstream: number, routeName = "all"): string {
  return nodeYaml(port, upstream).replace("name: all,", `name: ${routeName},`);
}

/** Waits until 20 fresh connections in a row are all answered `text` (every Worker serves it). */
function everyWorkerAnswers(url: string, text: string): Promise<unknown> {
  return waitFor(`every Worker to answer "${text}"`, async () => {
    for (let i = 0; i < 20; i++) {
      const res = await fetch(url, { headers: { connection: "close" } });
      if ((await res.text()) !== text) return false;
    }
    return true;
  }, 20_000);
}

Deno.test("workers: a Worker replaced while a reload runs ends up on the new config", async () => {
  await using a = startHttpUpstream("A");
  await using b = startHttpUpstream("B");
  const port = freePort();
  await using n = await startNode(versionYaml(port, a.port), 2);
  const replaced = n.node.restart(0, "crashed"); // as if Worker 0 had crashed just now
  const out = await n.node.reload(parseConfig(versionYaml(port, b.port), "node.yaml"));
  assert.equal(out.ok, true, out.error ?? "");
  assert.equal(await replaced, null);
  await everyWorkerAnswers(n.url + "/", "B");
  assert.equal(n.node.ready, true);
});

Deno.test("workers: a Worker that ends while a reload waits for it is replaced; the node stays ready", async () => {
  await using a = startHttpUpstream("A");
  await using b = startHttpUpstream("B");
  const port = freePort();
  await using n = await startNode(versionYaml(port, a.port), 2);
  n.node.control(0, { kind: "exit" });
  const out = await n.node.reload(parseConfig(versionYaml(port, b.port), "node.yaml"));
  // Whether Worker 0 ended before or after it took the version, every Worker serves the
  // node's current config in the end, and the node is ready again.
  await waitFor("the node to be ready again", () => n.node.ready && n.node.serving === 2, 20_000);
  await everyWorkerAnswers(n.url + "/", out.ok ? "B" : "A");
});

Deno.test("workers: a drain that arrives during a reload still lets requests in flight finish", async () => {
  const gate = Promise.withResolvers<void>();
  let arrived = 0;
  const all = Promise.withResolvers<void>();
  await using up = startHttpUpstream("up", async () => {
    if (++arrived === 8) all.resolve();
    await gate.promise;
    return new Response("late");
  });
  const port = freePort();
  await using n = await startNode(versionYaml(port, up.port), 2);
  const inflight = Array.from(
    { length: 8 },
    () =>
      fetch(n.url + "/", { headers: { connection: "close" } }).then(
        async (r) => `${r.status} ${await r.text()}`,
        (e) => `failed: ${e}`,
      ),
  );
  await all.promise;
  const reload = n.node.reload(parseConfig(versionYaml(port, up.port, "all2"), "node.yaml"));
  const drained = n.node.drain("test");
  await reload;
  gate.resolve();
  assert.deepEqual(await Promise.all(inflight), Array(8).fill("200 late"));
  await drained;
});
