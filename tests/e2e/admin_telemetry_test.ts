// The admin API and telemetry, seen from outside: /ready, /config, /clusters, /metrics
// (checked by the real promtool) and the JSON access log, after real traffic.
import assert from "node:assert/strict";
import {
  freePort,
  promtoolCheck,
  promtoolInstalled,
  spawnSkiff,
  startHttpUpstream,
  startSidecar,
  type TestServer,
  waitFor,
} from "../_harness/mod.ts";
import { clusterView, metricsText, sample } from "./_admin_api.ts";
import { curl } from "./_curl_cli.ts";

Deno.test("admin: /ready, /config with defaults applied, /clusters with counters", async () => {
  await using a = startHttpUpstream("a");
  await using b = startHttpUpstream("b");
  await using s = await startSidecar(`
admin: { address: "127.0.0.1:0" }
listeners:
  - name: web
    address: 127.0.0.1:0
    routes:
      - name: r
        cluster: c
clusters:
  - name: c
    endpoints:
      - { address: "127.0.0.1:${a.port}", labels: { zone: a } }
      - { address: "127.0.0.1:${b.port}", weight: 1 }
  - name: v6
    endpoints: [{ address: "[::1]:9" }]
`);
  const ready = await fetch(`${s.adminUrl}/ready`);
  assert.equal(ready.status, 200);
  assert.equal(await ready.text(), "ready\n");

  const res = await fetch(`${s.adminUrl}/config`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  // deno-lint-ignore no-explicit-any
  const cfg = (await res.json()) as any;
  assert.equal(cfg.admin.address, "127.0.0.1:0");
  assert.equal(cfg.access_log.sink, "off");
  const l = cfg.listeners[0];
  assert.equal(l.address, "127.0.0.1:0");
  assert.equal(l.protocol, "http");
  // Durations as the config file writes them (the defaults are 60s, 10s and 5m).
  assert.deepEqual(l.timeouts, { idle: "1m", request_headers: "10s", request: "5m" });
  assert.deepEqual(l.limits, {
    max_connections: 10_000,
    max_request_header_bytes: 65_536,
    max_request_headers: 100,
  });
  assert.equal(l.routes[0].timeout, "15s");
  assert.deepEqual(l.routes[0].match.headers, []);
  const c = cfg.clusters[0];
  assert.equal(c.protocol, "http1");
  assert.equal(c.lb_policy, "round_robin");
  assert.equal(c.connect_timeout, "1s");
  assert.deepEqual(c.endpoints[0], {
    address: `127.0.0.1:${a.port}`,
    weight: 1,
    labels: { zone: "a" },
  });
  assert.equal(c.pool.max_connections, 1024);
  assert.equal(c.pool.idle_timeout, "1m");
  assert.deepEqual(c.retry_budget, { budget_percent: 20, min_retry_concurrency: 3 });
  assert.equal(cfg.clusters[1].endpoints[0].address, "[::1]:9");

  for (let i = 0; i < 10; i++) {
    const r = await fetch(`${s.url("web")}/x`);
    assert.equal(r.status, 200);
    await r.body?.cancel();
  }
  await waitFor("every request to be closed", async () => {
    return (await clusterView(s.adminUrl, "c")).active_requests === 0;
  });
  const view = await clusterView(s.adminUrl, "c");
  assert.equal(view.lb_policy, "round_robin");
  assert.equal(view.protocol, "http1");
  assert.equal(view.requests, 10);
  assert.equal(view.retries, 0);
  assert.deepEqual(view.endpoints.map((e) => e.address), [
    `127.0.0.1:${a.port}`,
    `127.0.0.1:${b.port}`,
  ]);
  assert.deepEqual(view.endpoints[0].labels, { zone: "a" });
  for (const e of view.endpoints) {
    assert.equal(e.requests, 5, e.address);
    assert.equal(e.failures, 0);
    assert.equal(e.active_requests, 0);
    assert.ok(e.connections && e.connections.open >= 1, JSON.stringify(e.connections));
  }
  assert.equal(a.requests.length + b.requests.length, 10);

  const missing = await fetch(`${s.adminUrl}/nope`);
  await missing.body?.cancel();
  assert.equal(missing.status, 404);
  const post = await fetch(`${s.adminUrl}/config`, { method: "POST" });
  await post.body?.cancel();
  assert.equal(post.status, 405);
});

interface AccessLine {
  start_time: string;
  method: string;
  path: string;
  protocol: string;
  response_code: number;
  response_flags: string;
  bytes_received: number;
  bytes_sent: number;
  duration_ms: number;
  upstream_service_time_ms: number | null;
  request_id: string | null;
  upstream_host: string | null;
  upstream_cluster: string | null;
  route: string | null;
  listener: string;
  retries: number;
  grpc_status?: number;
}

/** Waits for a skiff child process to log that `what` is bound and returns its port. */
function boundPort(stderr: () => string, msg: string, listener?: string): Promise<number> {
  return waitFor(`skiff to log "${msg}"`, () => {
    for (const line of stderr().split("\n")) {
      if (!line.startsWith("{")) continue;
      const o = JSON.parse(line);
      if (o.msg === msg && (listener === undefined || o.listener === listener)) {
        return Number(String(o.address).split(":").pop());
      }
    }
    return 0;
  }, 20_000);
}

Deno.test({
  name: "telemetry: /metrics passes promtool and the access log has a line per request",
  ignore: !(await promtoolInstalled()),
  async fn() {
    let flakyCalls = 0;
    await using up = startHttpUpstream("up");
    await using flaky: TestServer = startHttpUpstream(
      "flaky",
      () => flakyCalls++ === 0 ? new Response("fail", { status: 503 }) : new Response("flaky"),
    );
    const dir = await Deno.makeTempDir({ prefix: "skiff_e2e_telemetry_" });
    const accessLog = `${dir}/access.log`;
    const configFile = `${dir}/skiff.yaml`;
    const closed = freePort();
    await Deno.writeTextFile(
      configFile,
      `
admin: { address: "127.0.0.1:0" }
access_log: { sink: file, path: "${accessLog}" }
listeners:
  - name: web
    address: 127.0.0.1:0
    routes:
      - name: api
        match: { prefix: /api/ }
        cluster: up
      - name: dead
        match: { prefix: /dead/ }
        cluster: dead
      - name: flaky
        match: { prefix: /flaky/ }
        cluster: flaky
        retry: { retry_on: [5xx], num_retries: 1, backoff: { base_interval: 1ms } }
clusters:
  - name: up
    endpoints: [{ address: "127.0.0.1:${up.port}" }]
  - name: flaky
    endpoints: [{ address: "127.0.0.1:${flaky.port}" }]
  - name: dead
    endpoints: [{ address: "127.0.0.1:${closed}" }]
`,
    );
    try {
      await using proc = await spawnSkiff(["run", "-c", configFile]);
      const port = await boundPort(proc.stderr, "listener bound", "web");
      const adminPort = await boundPort(proc.stderr, "admin bound");
      const base = `http://127.0.0.1:${port}`;
      const admin = `http://127.0.0.1:${adminPort}`;
      await waitFor("skiff to be ready", async () => (await fetch(`${admin}/ready`)).ok);

      const send = async (path: string, id: string, init: RequestInit = {}) => {
        const res = await fetch(base + path, {
          ...init,
          headers: { "x-request-id": id, ...init.headers },
        });
        return {
          status: res.status,
          body: await res.text(),
          error: res.headers.get("x-skiff-error"),
        };
      };
      for (let i = 0; i < 5; i++) {
        assert.equal((await send(`/api/ok?i=${i}`, `ok-${i}`)).status, 200);
      }
      const post = await send("/api/post", "post", { method: "POST", body: "p".repeat(5000) });
      assert.equal(post.status, 200);
      for (const id of ["dead", "dead-2"]) {
        const dead = await send("/dead/x", id);
        assert.equal(dead.status, 503);
        assert.equal(dead.error, "connect_failure");
      }
      const none = await send("/nowhere", "none");
      assert.equal(none.status, 404);
      assert.equal(none.error, "no_route");
      assert.deepEqual(await send("/flaky/x", "flaky"), {
        status: 200,
        body: "flaky",
        error: null,
      });
      const h2 = await curl([
        "--http2-prior-knowledge",
        "-H",
        "x-request-id: h2",
        "-o",
        "/dev/null",
        "-w",
        "%{http_version} %{http_code}",
        `${base}/api/h2`,
      ]);
      assert.equal(new TextDecoder().decode(h2.stdout), "2 200", h2.stderr);
      const grpc = await curl([
        "--http2-prior-knowledge",
        "-H",
        "x-request-id: grpc",
        "-H",
        "content-type: application/grpc",
        "--data-binary",
        "",
        "-D",
        "-",
        "-o",
        "/dev/null",
        `${base}/pkg.Service/Method`,
      ]);
      assert.match(new TextDecoder().decode(grpc.stdout), /grpc-status: 12/);

      // Metrics.
      const text = await metricsText(admin);
      const check = await promtoolCheck(text);
      assert.equal(check.output, "", "promtool reported problems");
      assert.equal(check.code, 0);
      const api = { listener: "web", route: "api", cluster: "up" };
      assert.equal(sample(text, "skiff_requests_total", { ...api, code_class: "2xx" }), 7);
      assert.equal(
        sample(text, "skiff_requests_total", {
          listener: "web",
          route: "dead",
          cluster: "dead",
          code_class: "5xx",
        }),
        2,
      );
      assert.equal(
        sample(text, "skiff_requests_total", {
          listener: "web",
          route: "flaky",
          cluster: "flaky",
          code_class: "2xx",
        }),
        1,
      );
      assert.equal(sample(text, "skiff_request_duration_seconds_count", api), 7);
      assert.equal(
        sample(text, "skiff_request_duration_seconds_bucket", { ...api, le: "+Inf" }),
        7,
      );
      assert.ok(
        sample(text, "skiff_upstream_connect_duration_seconds_count", { cluster: "up" })! >= 1,
      );
      assert.ok(sample(text, "skiff_upstream_first_byte_seconds_count", { cluster: "up" })! >= 7);
      assert.ok(sample(text, "skiff_downstream_connections_active", { listener: "web" })! >= 0);
      assert.ok(sample(text, "skiff_downstream_connections_total", { listener: "web" })! >= 3);
      assert.ok(
        sample(text, "skiff_downstream_received_bytes_total", { listener: "web" })! >= 5000,
      );
      assert.ok(sample(text, "skiff_downstream_sent_bytes_total", { listener: "web" })! >= 5 * 2);
      assert.equal(sample(text, "skiff_retries_total", { cluster: "flaky" }), 1);
      assert.equal(sample(text, "skiff_retry_budget_exhausted_total", { cluster: "flaky" }), 0);
      assert.equal(
        sample(text, "skiff_errors_total", { listener: "web", reason: "connect_failure" }),
        2,
      );
      assert.equal(sample(text, "skiff_errors_total", { listener: "web", reason: "no_route" }), 2);

      // Access log: one JSON line per request (12 so far), written in batches.
      const lines = await waitFor("12 access log lines", async () => {
        const t = await Deno.readTextFile(accessLog).catch(() => "");
        const ls = t.split("\n").filter((x) => x !== "").map((x) => JSON.parse(x) as AccessLine);
        return ls.length >= 12 ? ls : undefined;
      }) as AccessLine[];
      assert.equal(lines.length, 12);
      const byId = (id: string) => {
        const found = lines.filter((x) => x.request_id === id);
        assert.equal(found.length, 1, `access log lines for ${id}: ${JSON.stringify(lines)}`);
        return found[0];
      };
      const ok = byId("ok-0");
      assert.equal(ok.method, "GET");
      assert.equal(ok.path, "/api/ok?i=0");
      assert.equal(ok.protocol, "HTTP/1.1");
      assert.equal(ok.response_code, 200);
      assert.equal(ok.response_flags, "");
      assert.equal(ok.upstream_host, `127.0.0.1:${up.port}`);
      assert.equal(ok.upstream_cluster, "up");
      assert.equal(ok.route, "api");
      assert.equal(ok.listener, "web");
      assert.equal(ok.retries, 0);
      assert.equal(ok.bytes_sent, 2);
      assert.equal(typeof ok.duration_ms, "number");
      assert.ok(ok.duration_ms >= 0);
      assert.equal(typeof ok.upstream_service_time_ms, "number");
      assert.ok(!Number.isNaN(Date.parse(ok.start_time)));
      assert.equal(ok.grpc_status, undefined);
      assert.equal(byId("post").bytes_received, 5000);

      const dead = byId("dead");
      assert.equal(dead.response_code, 503);
      assert.equal(dead.response_flags, "connect_failure");
      assert.equal(dead.upstream_cluster, "dead");
      assert.equal(dead.upstream_host, `127.0.0.1:${closed}`);
      assert.equal(dead.route, "dead");

      const noRoute = byId("none");
      assert.equal(noRoute.response_code, 404);
      assert.equal(noRoute.response_flags, "no_route");
      assert.equal(noRoute.route, null);
      assert.equal(noRoute.upstream_cluster, null);

      const retried = byId("flaky");
      assert.equal(retried.response_code, 200);
      assert.equal(retried.retries, 1);
      assert.equal(retried.upstream_cluster, "flaky");

      assert.equal(byId("h2").protocol, "HTTP/2");
      const grpcLine = byId("grpc");
      assert.equal(grpcLine.protocol, "HTTP/2");
      assert.equal(grpcLine.response_flags, "no_route");
      assert.equal(grpcLine.grpc_status, 12);

      assert.equal(await proc.stop(), 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
