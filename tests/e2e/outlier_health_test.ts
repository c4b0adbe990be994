// End-to-end: outlier detection and active health checks as a client sees them (traffic
// avoids the bad endpoint, then finds it again) and as an operator sees them (/clusters and
// /metrics). Every wait is on /clusters with a deadline; nothing sleeps.
import assert from "node:assert/strict";
import {
  startHttpUpstream,
  startSidecar,
  type TestServer,
  type TestSidecar,
  waitFor,
} from "../_harness/mod.ts";
import { clusterView, metric } from "./_admin_api.ts";

/** A sidecar sending everything to cluster `app` of the `ports`, with `extra` cluster keys. */
function config(ports: number[], extra: string): string {
  return `
admin: { address: "127.0.0.1:0" }
listeners:
  - name: web
    address: 127.0.0.1:0
    routes: [{ cluster: app }]
clusters:
  - name: app
    lb_policy: round_robin
    endpoints: [${ports.map((p) => `{ address: "127.0.0.1:${p}" }`).join(", ")}]
${extra}
`;
}

/** Sends `n` requests one after the other; their statuses and answering upstream names. */
async function send(s: TestSidecar, n: number): Promise<{ statuses: number[]; names: string[] }> {
  const statuses: number[] = [];
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(s.url("web") + "/work");
    statuses.push(res.status);
    names.push(await res.text());
  }
  return { statuses, names };
}

/** The `/clusters` entry of endpoint `port` of cluster `app`. */
async function endpoint(s: TestSidecar, port: number) {
  const c = await clusterView(s.adminUrl, "app");
  const e = c.endpoints.find((e) => e.address === `127.0.0.1:${port}`);
  if (!e) throw new Error(`no endpoint 127.0.0.1:${port} on /clusters`);
  return e;
}

/** Requests an upstream got, health checks left out. */
const work = (up: TestServer) => up.requests.filter((r) => !r.url.endsWith("/healthz")).length;

Deno.test("outlier detection: an endpoint answering 500 is ejected, traffic avoids it, and it comes back", async () => {
  await using a = startHttpUpstream("a");
  await using b = startHttpUpstream("b");
  let broken = true;
  await using c = startHttpUpstream(
    "c",
    () => broken ? new Response("broken", { status: 500 }) : new Response("c"),
  );
  await using s = await startSidecar(config(
    [a.port, b.port, c.port],
    // An ejection of 1 s: ample time for the requests below on a loaded machine.
    `    outlier_detection:
      consecutive_5xx: 3
      interval: 100ms
      base_ejection_time: 1s
      max_ejection_percent: 50`,
  ));
  const labels = { cluster: "app" };
  assert.equal(await metric(s, "skiff_endpoints_healthy", labels), 3);
  // Round robin: every third request goes to c, which fails.
  const first = await send(s, 9);
  assert.deepEqual(first.statuses.filter((x) => x === 500).length, 3, first.names.join(" "));
  const ejected = await endpoint(s, c.port);
  assert.deepEqual([ejected.ejected, ejected.ejections], [true, 1]);
  assert.equal(
    await metric(s, "skiff_outlier_ejections_total", { ...labels, reason: "consecutive_5xx" }),
    1,
  );
  assert.equal(await metric(s, "skiff_endpoints_ejected", labels), 1);
  assert.equal(await metric(s, "skiff_endpoints_healthy", labels), 2);
  assert.ok(s.logs.some((l) => l.msg === "endpoint ejected" && l.reason === "consecutive_5xx"));

  const before = work(c);
  const during = await send(s, 12);
  assert.deepEqual(during.statuses, Array(12).fill(200), "the ejected endpoint gets no traffic");
  assert.equal(work(c), before);
  assert.deepEqual(new Set(during.names), new Set(["a", "b"]));
  assert.equal((await endpoint(s, c.port)).ejections, 1, "still the same ejection");

  broken = false;
  await waitFor("c back from its ejection", async () => !(await endpoint(s, c.port)).ejected);
  assert.equal(await metric(s, "skiff_endpoints_ejected", labels), 0);
  const after = await send(s, 9);
  assert.deepEqual(after.statuses, Array(9).fill(200));
  assert.ok(after.names.includes("c"), `c takes traffic again: ${after.names.join(" ")}`);
});

Deno.test("health checks: a stopped endpoint turns unhealthy and gets no traffic; restarted, it is back", async () => {
  await using a = startHttpUpstream("a");
  await using b = startHttpUpstream("b");
  const c = startHttpUpstream("c");
  const cPort = c.port;
  await using s = await startSidecar(config(
    [a.port, b.port, cPort],
    `    health_check:
      type: http
      path: /healthz
      interval: 100ms
      timeout: 1s
      healthy_threshold: 2
      unhealthy_threshold: 2`,
  ));
  const labels = { cluster: "app" };
  await waitFor("every endpoint healthy", async () => {
    const view = await clusterView(s.adminUrl, "app");
    return view.endpoints.every((e) => e.health === "healthy");
  });
  assert.ok(c.requests.some((r) => r.url.endsWith("/healthz")), "checked on /healthz");

  await c.close();
  await waitFor("c unhealthy", async () => (await endpoint(s, cPort)).health === "unhealthy");
  assert.equal(await metric(s, "skiff_endpoints_healthy", labels), 2);
  assert.ok(await metric(s, "skiff_health_checks_total", { ...labels, result: "failure" }) >= 2);
  assert.ok(
    s.logs.some((l) => l.msg === "endpoint unhealthy" && l.upstream === `127.0.0.1:${cPort}`),
  );
  // A request sent to c now would fail to connect: every one succeeds.
  const down = await send(s, 12);
  assert.deepEqual(down.statuses, Array(12).fill(200), down.names.join(" "));
  assert.deepEqual(new Set(down.names), new Set(["a", "b"]));

  await using again = startHttpUpstreamOn(cPort, "c");
  await waitFor("c healthy again", async () => (await endpoint(s, cPort)).health === "healthy");
  assert.equal(await metric(s, "skiff_endpoints_healthy", labels), 3);
  const up = await send(s, 9);
  assert.deepEqual(up.statuses, Array(9).fill(200));
  assert.ok(up.names.includes("c"), `c takes traffic again: ${up.names.join(" ")}`);
  assert.ok(work(again) > 0);
});

/** Like `startHttpUpstream`, on a given port (an upstream restarted where it was). */
function startHttpUpstreamOn(port: number, name: string): TestServer {
  const requests: TestServer["requests"] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, (req, info) => {
    requests.push({
      method: req.method,
      url: req.url,
      headers: new Headers(req.headers),
      body: "",
      bytes: new Uint8Array(0),
      remote: `${info.remoteAddr.hostname}:${info.remoteAddr.port}`,
    });
    return new Response(name);
  });
  const close = () => server.shutdown();
  return { port, requests, accepted: 0, close, [Symbol.asyncDispose]: close };
}
