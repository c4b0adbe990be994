// End-to-end: a request body that fails on the client's side is the client's fault. It must not
// count against the upstream (endpoint failures, outlier detection, circuit breaker) — otherwise
// any client could get a healthy endpoint ejected by sending malformed uploads — while a POST
// the upstream really fails still counts.
import assert from "node:assert/strict";
import { oneRouteConfig, RawConn, startHttpUpstream, startSidecar } from "../_harness/mod.ts";
import { clusterView, metric } from "./_admin_api.ts";

/** `oneRouteConfig` with `extra` keys for its cluster `app`. */
const config = (port: number, extra: string) => oneRouteConfig(port) + extra + "\n";

const BREAKER = `    circuit_breaker:
      sliding_window_size: 2
      minimum_number_of_calls: 2
      failure_rate_threshold: 50
      wait_duration_in_open_state: 60s`;

Deno.test("a malformed request body is the client's fault, not the upstream's", async () => {
  await using up = startHttpUpstream("up");
  await using s = await startSidecar(config(
    up.port,
    `    outlier_detection:
      consecutive_gateway_failure: 2
      consecutive_local_origin_failure: 2
      base_ejection_time: 60s
      max_ejection_percent: 100
${BREAKER}`,
  ));
  for (let i = 0; i < 5; i++) {
    await using c = await RawConn.connect(s.port("web"));
    await c.send(
      "POST /upload HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n",
    );
    const res = await c.readResponse({ timeoutMs: 5_000 });
    assert.equal(res.status, 400, res.head);
    assert.equal(res.header("x-skiff-error"), "bad_chunk_size", res.head);
  }
  // The endpoint is neither ejected nor behind an open circuit: a good request goes through.
  const ok = await fetch(s.url("web") + "/after");
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), "up");
  const e = (await clusterView(s.adminUrl, "app")).endpoints[0];
  assert.deepEqual([e.failures, e.ejections, e.ejected], [0, 0, false]);
  assert.equal(
    await metric(s, "skiff_outlier_ejections_total", {
      cluster: "app",
      reason: "consecutive_gateway_failure",
    }),
    0,
  );
  assert.ok(
    !s.logs.some((l) => l.reason === "upstream_protocol_error"),
    "no upstream error is logged for the client's body",
  );
});

Deno.test("a POST the upstream answers with 503 counts for the cluster's circuit breaker", async () => {
  await using up = startHttpUpstream("up", () => new Response("down", { status: 503 }));
  await using s = await startSidecar(config(up.port, BREAKER));
  const post = () => fetch(s.url("web") + "/orders", { method: "POST", body: "{}" });
  for (let i = 0; i < 2; i++) {
    const res = await post();
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("x-skiff-error"), null, "the upstream's own 503");
    await res.body?.cancel();
  }
  // Two failed calls out of two: the circuit is open, the next POST is refused at once.
  const refused = await post();
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get("x-skiff-error"), "circuit_open");
  await refused.body?.cancel();
  assert.equal(up.requests.length, 2);
});
