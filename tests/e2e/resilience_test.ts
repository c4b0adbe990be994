// End-to-end: route and listener traffic policies as a client sees them — local rate limits,
// fault injection, circuit breakers and fallbacks — and as an operator sees them on /metrics.
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { startHttpUpstream, startSidecar, type TestSidecar } from "../_harness/mod.ts";
import { metricsText, sample } from "./_admin_api.ts";

/** A sidecar with listener `web`, route `r` (extra keys `route`) to cluster `app`. */
function config(upstream: number, route: string, more = ""): string {
  return `
admin: { address: "127.0.0.1:0" }
listeners:
  - name: web
    address: 127.0.0.1:0
    routes:
      - name: r
        cluster: app
${route}
clusters:
  - name: app
    endpoints: [{ address: "127.0.0.1:${upstream}" }]
  - name: spare
    endpoints: [{ address: "127.0.0.1:${upstream}" }]
  - name: empty
    endpoints: []
${more}`;
}

async function get(s: TestSidecar, path = "/", headers: HeadersInit = {}) {
  const res = await fetch(s.url("web") + path, { headers });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

async function metric(s: TestSidecar, name: string, labels: Record<string, string>) {
  return sample(await metricsText(s.adminUrl), name, labels) ?? 0;
}

Deno.test("resilience: a route's rate limit answers 429 with retry-after once its bucket is empty", async () => {
  await using up = startHttpUpstream("up");
  await using s = await startSidecar(
    config(up.port, "        rate_limit: { max_tokens: 2, fill_interval: 1h }"),
  );
  assert.equal((await get(s)).status, 200);
  assert.equal((await get(s)).status, 200);
  const third = await get(s);
  assert.equal(third.status, 429);
  assert.equal(third.headers.get("x-skiff-error"), "rate_limited");
  assert.ok(Number(third.headers.get("retry-after")) >= 1);
  assert.equal(up.requests.length, 2, "the refused request never reached the upstream");
  assert.equal(await metric(s, "skiff_rate_limited_total", { listener: "web", route: "r" }), 1);
});

Deno.test("resilience: a listener's rate limit covers every route", async () => {
  await using up = startHttpUpstream("up");
  const yaml = config(up.port, "").replace(
    "    address: 127.0.0.1:0\n",
    "    address: 127.0.0.1:0\n    rate_limit: { max_tokens: 1, fill_interval: 1h }\n",
  );
  await using s = await startSidecar(yaml);
  assert.equal((await get(s)).status, 200);
  const second = await get(s, "/other");
  assert.equal(second.status, 429);
  assert.equal(await metric(s, "skiff_rate_limited_total", { listener: "web", route: "" }), 1);
});

Deno.test("resilience: fault injection aborts and delays only requests with the header", async () => {
  await using up = startHttpUpstream("up");
  await using s = await startSidecar(config(
    up.port,
    `        fault:
          abort: { http_status: 418, percentage: 100 }
          delay: { fixed_delay: 10ms, percentage: 100 }
          headers: [{ name: x-skiff-fault, present: true }]`,
  ));
  assert.equal((await get(s)).status, 200, "no header, no fault");
  const hit = await get(s, "/", { "x-skiff-fault": "1" });
  assert.equal(hit.status, 418);
  assert.equal(hit.headers.get("x-skiff-error"), "fault_abort");
  assert.equal(up.requests.length, 1);
  const labels = { listener: "web", route: "r" };
  assert.equal(await metric(s, "skiff_faults_injected_total", { ...labels, kind: "abort" }), 1);
  assert.equal(await metric(s, "skiff_faults_injected_total", { ...labels, kind: "delay" }), 1);
});

const BREAKER = `        circuit_breaker:
          sliding_window_size: 2
          minimum_number_of_calls: 2
          failure_rate_threshold: 50
          wait_duration_in_open_state: 1h`;

Deno.test("resilience: a route's circuit opens on failures and answers 503 circuit_open at once", async () => {
  await using up = startHttpUpstream("up", () => new Response("broken", { status: 500 }));
  await using s = await startSidecar(config(up.port, BREAKER));
  assert.equal((await get(s)).status, 500);
  assert.equal((await get(s)).status, 500);
  const open = await get(s);
  assert.equal(open.status, 503);
  assert.equal(open.headers.get("x-skiff-error"), "circuit_open");
  assert.equal(up.requests.length, 2, "an open circuit sends nothing upstream");
  assert.equal(
    await metric(s, "skiff_circuit_breaker_state", { scope: "route", name: "web/r" }),
    1,
  );
  assert.equal(
    await metric(s, "skiff_circuit_breaker_transitions_total", {
      scope: "route",
      name: "web/r",
      to: "open",
    }),
    1,
  );
  assert.ok(s.logs.some((l) => l.msg === "circuit breaker open"), "the opening is logged");
  // A reload that leaves the route as it is keeps the breaker, open.
  const again = await s.sidecar.reload(
    parseConfig(config(up.port, BREAKER, "access_log: { sink: off }"), "t.yaml"),
  );
  assert.equal(again.ok, true, again.error ?? "");
  assert.equal((await get(s)).headers.get("x-skiff-error"), "circuit_open");
});

Deno.test("resilience: a cluster's circuit breaker guards every route to it", async () => {
  await using up = startHttpUpstream("up", () => new Response("broken", { status: 503 }));
  const yaml = config(up.port, "").replace(
    "  - name: app\n    endpoints",
    `  - name: app\n    circuit_breaker: { sliding_window_size: 2, minimum_number_of_calls: 2, wait_duration_in_open_state: 1h }\n    endpoints`,
  );
  await using s = await startSidecar(yaml);
  await get(s);
  await get(s);
  const open = await get(s);
  assert.equal(open.headers.get("x-skiff-error"), "circuit_open");
  assert.equal(up.requests.length, 2);
  assert.equal(
    await metric(s, "skiff_circuit_breaker_state", { scope: "cluster", name: "app" }),
    1,
  );
});

Deno.test("resilience: a fallback answers an open circuit with its static response", async () => {
  await using up = startHttpUpstream("up", () => new Response("broken", { status: 500 }));
  await using s = await startSidecar(config(
    up.port,
    `${BREAKER}
        fallback:
          response: { status: 200, body: "degraded", headers: [{ name: x-mode, value: cached }] }`,
  ));
  await get(s);
  await get(s);
  const fb = await get(s);
  assert.equal(fb.status, 200);
  assert.equal(fb.body, "degraded");
  assert.equal(fb.headers.get("x-mode"), "cached");
  assert.equal(fb.headers.get("x-skiff-fallback"), "circuit_open");
  assert.equal(
    await metric(s, "skiff_fallbacks_total", {
      listener: "web",
      route: "r",
      reason: "circuit_open",
    }),
    1,
  );
});

Deno.test("resilience: a fallback cluster takes the requests of a cluster without endpoints", async () => {
  await using up = startHttpUpstream("spare");
  const yaml = config(up.port, "        fallback: { cluster: spare }").replace(
    "        cluster: app\n",
    "        cluster: empty\n",
  );
  await using s = await startSidecar(yaml);
  const res = await get(s, "/path?q=1");
  assert.equal(res.status, 200);
  assert.equal(res.body, "spare");
  assert.equal(up.requests.length, 1);
  assert.equal(
    new URL(up.requests[0].url).pathname + new URL(up.requests[0].url).search,
    "/path?q=1",
  );
  assert.equal(up.requests[0].headers.get("x-forwarded-for")?.split(",").length, 1);
});

Deno.test("resilience: a fault delay does not use up the route timeout", async () => {
  // A body streamed in two parts 100 ms apart, so that the route's deadline covers it (a body
  // in memory cannot overrun it): a deadline counted from before the delay has passed by then.
  await using up = startHttpUpstream("up", () =>
    new Response(
      new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode("u"));
          setTimeout(() => {
            c.enqueue(new TextEncoder().encode("p"));
            c.close();
          }, 100);
        },
      }),
    ));
  await using s = await startSidecar(config(
    up.port,
    `        timeout: 500ms
        fault: { delay: { fixed_delay: 600ms, percentage: 100 } }`,
  ));
  const res = await get(s);
  assert.equal(res.status, 200, res.body);
  assert.equal(res.body, "up");
});

Deno.test("resilience: a changed cluster keeps its breaker when the breaker's settings stay", async () => {
  await using up = startHttpUpstream("up", () => new Response("broken", { status: 503 }));
  const cb =
    "    circuit_breaker: { sliding_window_size: 2, minimum_number_of_calls: 2, wait_duration_in_open_state: 1h }\n";
  const yaml = (lb: string) =>
    config(up.port, "").replace(
      "  - name: app\n    endpoints",
      `  - name: app\n${cb}${lb}    endpoints`,
    );
  await using s = await startSidecar(yaml(""));
  await get(s);
  await get(s);
  assert.equal((await get(s)).headers.get("x-skiff-error"), "circuit_open");
  const out = await s.sidecar.reload(parseConfig(yaml("    lb_policy: least_request\n"), "t.yaml"));
  assert.equal(out.ok, true, out.error ?? "");
  assert.deepEqual(out.changes?.clusters.changed, ["app"]);
  assert.equal((await get(s)).headers.get("x-skiff-error"), "circuit_open", "still open");
  assert.equal(up.requests.length, 2);
});

Deno.test("resilience: an injected abort answers a gRPC call with the configured gRPC status", async () => {
  await using up = startHttpUpstream("up");
  await using s = await startSidecar(config(
    up.port,
    "        fault: { abort: { http_status: 503, grpc_status: 8, percentage: 100 } }",
  ));
  const grpc = await get(s, "/pkg.Svc/Call", { "content-type": "application/grpc" });
  assert.equal(grpc.status, 200);
  assert.equal(grpc.headers.get("grpc-status"), "8");
  assert.equal(grpc.headers.get("x-skiff-error"), "fault_abort");
  const plain = await get(s);
  assert.equal(plain.status, 503);
  assert.equal(up.requests.length, 0);
});
