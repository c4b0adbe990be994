// End-to-end: downstream timeouts and listener limits as a client sees them — slow or idle
// clients are cut off, and too many connections or too large heads are refused.
import assert from "node:assert/strict";
import {
  oneRouteConfig,
  RawConn,
  startHttpUpstream,
  startSidecar,
  type TestSidecar,
  waitFor,
} from "../_harness/mod.ts";
import { metricsText, sample } from "./_admin_api.ts";

const SHORT_TIMEOUTS = "    timeouts: { idle: 300ms, request_headers: 300ms, request: 300ms }";

async function metric(s: TestSidecar, name: string, labels: Record<string, string>) {
  return sample(await metricsText(s.adminUrl), name, { listener: "web", ...labels }) ?? 0;
}

async function timeouts(s: TestSidecar, kind: string): Promise<number> {
  return await metric(s, "skiff_downstream_timeouts_total", { kind });
}

Deno.test("timeouts: a client that stops in the middle of its head gets 408 and is closed", async () => {
  await using up = startHttpUpstream("app");
  await using s = await startSidecar(oneRouteConfig(up.port, SHORT_TIMEOUTS));
  await using c = await RawConn.connect(s.port("web"));
  await c.send("GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ");
  const res = await c.readResponse();
  assert.equal(res.status, 408);
  assert.equal(res.header("x-skiff-error"), "request_timeout");
  assert.equal((await c.readToEnd()).length, 0);
  await waitFor(
    "a request_headers timeout on /metrics",
    async () => (await timeouts(s, "request_headers")) === 1,
  );
  assert.equal(up.requests.length, 0);
});

Deno.test("timeouts: trickling head bytes does not extend the request_headers deadline", async () => {
  await using up = startHttpUpstream("app");
  await using s = await startSidecar(oneRouteConfig(up.port, SHORT_TIMEOUTS));
  await using c = await RawConn.connect(s.port("web"));
  await c.send("GET / HTTP/1.1\r\nHost: a\r\n");
  // One more header byte every 25 ms, at most 400 of them (10 s): each byte is progress,
  // but the deadline covers the whole head, so skiff must cut the client off long before.
  const closed = c.readResponse({ timeoutMs: 20_000 });
  let done = false;
  closed.finally(() => done = true).catch(() => {});
  let sent = 0;
  for (; sent < 400 && !done; sent++) {
    try {
      await c.send(sent % 40 === 39 ? "\r\n" : "x");
    } catch {
      break; // the connection is gone
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.ok(sent < 400, "skiff was still reading the head after 400 trickled bytes");
  const res = await closed;
  assert.equal(res.status, 408);
  assert.equal(up.requests.length, 0);
});

Deno.test("timeouts: idle keep-alive and silent connections are closed", async () => {
  await using up = startHttpUpstream("app");
  await using s = await startSidecar(oneRouteConfig(up.port, SHORT_TIMEOUTS));
  // After one request, the idle keep-alive connection is closed without a response.
  await using c = await RawConn.connect(s.port("web"));
  await c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.equal((await c.readResponse()).status, 200);
  assert.equal((await c.readToEnd()).length, 0, "nothing sent on an idle close");
  await waitFor("an idle timeout on /metrics", async () => (await timeouts(s, "idle")) === 1);

  // A connection that never sends a byte is closed too, and counted.
  await using silent = await RawConn.connect(s.port("web"));
  assert.equal((await silent.readToEnd()).length, 0);
  await waitFor(
    "the silent connection's timeout on /metrics",
    async () => (await timeouts(s, "request_headers")) === 1,
  );
});

Deno.test("timeouts: waiting on a slow upstream does not trip the client's idle timeout", async () => {
  const gate = Promise.withResolvers<void>();
  await using up = startHttpUpstream("app", async () => {
    await gate.promise;
    return new Response("worth the wait");
  });
  try {
    await using s = await startSidecar(oneRouteConfig(up.port, SHORT_TIMEOUTS));
    await using busy = await RawConn.connect(s.port("web"));
    await busy.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
    await waitFor("the request upstream", () => up.requests.length === 1);
    // A probe connection opened now is closed once an idle timeout has passed for sure.
    await using probe = await RawConn.connect(s.port("web"));
    await probe.send("GET /probe HTTP/1.1\r\nHost: a\r\n");
    await probe.readToEnd();
    gate.resolve();
    const res = await busy.readResponse();
    assert.equal(res.status, 200);
    assert.equal(res.text(), "worth the wait");
  } finally {
    gate.resolve();
  }
});

Deno.test("timeouts: a request body that stops arriving gets 408, and no upstream is blamed", async () => {
  await using up = startHttpUpstream("app");
  await using s = await startSidecar(oneRouteConfig(up.port, SHORT_TIMEOUTS));
  await using c = await RawConn.connect(s.port("web"));
  await c.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\nfirst bytes");
  const res = await c.readResponse();
  assert.equal(res.status, 408);
  assert.equal(res.header("x-skiff-error"), "request_timeout");
  assert.equal((await c.readToEnd()).length, 0);
  await waitFor("a request timeout on /metrics", async () => (await timeouts(s, "request")) === 1);
  await waitFor(
    "the exchange to be recorded as a request timeout",
    async () => (await metric(s, "skiff_errors_total", { reason: "request_timeout" })) === 1,
  );
  for (const reason of ["upstream_reset", "upstream_protocol_error"]) {
    assert.equal(await metric(s, "skiff_errors_total", { reason }), 0, reason);
  }
  // Recorded with the status the client got.
  assert.equal(await metric(s, "skiff_requests_total", { code_class: "4xx" }), 1);
  assert.equal(await metric(s, "skiff_requests_total", { code_class: "5xx" }), 0);
  assert.equal(up.requests.length, 0, "the upstream never got a complete request");
});

for (const retry of [false, true]) {
  // With a retry policy the proxy buffers the body before contacting any upstream.
  const how = retry ? "a route with retries" : "a plain route";
  Deno.test(`limits: a client leaving in the middle of its body (${how}) is not an upstream error`, async () => {
    await using up = startHttpUpstream("app");
    const cfg = oneRouteConfig(up.port);
    await using s = await startSidecar(
      retry ? cfg.replace("[{ cluster: app }]", "[{ cluster: app, retry: {} }]") : cfg,
    );
    const c = await RawConn.connect(s.port("web"));
    await c.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\nfirst bytes");
    if (!retry) {
      // Leave only once the request is on its way upstream.
      await waitFor(
        "the upstream connection to open",
        async () =>
          (await metricsText(s.adminUrl)).includes(
            'skiff_upstream_connections_active{cluster="app"} 1',
          ),
      );
    }
    c.close();
    await waitFor(
      "the exchange to be recorded as a downstream reset",
      async () => (await metric(s, "skiff_errors_total", { reason: "downstream_reset" })) === 1,
    );
    for (const reason of ["upstream_reset", "upstream_protocol_error", "internal_error"]) {
      assert.equal(await metric(s, "skiff_errors_total", { reason }), 0, reason);
    }
    assert.deepEqual(s.logs.filter((l) => l.level === "error"), [], "no error-level log line");
    assert.equal(up.requests.length, 0);
  });
}

Deno.test("limits: max_connections refuses the third connection with 503 overflow", async () => {
  await using up = startHttpUpstream("app");
  await using s = await startSidecar(oneRouteConfig(up.port, "    limits: { max_connections: 2 }"));
  const get = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  await using c1 = await RawConn.connect(s.port("web"));
  await using c2 = await RawConn.connect(s.port("web"));
  for (const c of [c1, c2]) {
    await c.send(get);
    assert.equal((await c.readResponse()).status, 200);
  }
  await using c3 = await RawConn.connect(s.port("web"));
  const res = await c3.readResponse();
  assert.equal(res.status, 503);
  assert.equal(res.header("x-skiff-error"), "overflow");
  assert.equal((await c3.readToEnd()).length, 0);
  assert.equal(await metric(s, "skiff_errors_total", { reason: "overflow" }), 1);

  // The two accepted connections still work; once one closes, a new client is served.
  await c2.send(get);
  assert.equal((await c2.readResponse()).status, 200);
  c1.close();
  await waitFor(
    "one active connection",
    async () => (await metric(s, "skiff_downstream_connections_active", {})) === 1,
  );
  await using c4 = await RawConn.connect(s.port("web"));
  await c4.send(get);
  assert.equal((await c4.readResponse()).status, 200);
});

Deno.test("limits: heads over max_request_header_bytes or max_request_headers get 431", async () => {
  await using up = startHttpUpstream("app");
  await using s = await startSidecar(
    oneRouteConfig(
      up.port,
      "    limits: { max_request_header_bytes: 1024, max_request_headers: 5 }",
    ),
  );
  const send = async (fields: string[]) => {
    await using c = await RawConn.connect(s.port("web"));
    await c.send(`GET / HTTP/1.1\r\n${fields.map((f) => f + "\r\n").join("")}\r\n`);
    const res = await c.readResponse();
    if (res.status !== 200) assert.equal((await c.readToEnd()).length, 0, "closed after 431");
    return res;
  };
  const five = ["Host: a", "A: 1", "B: 2", "C: 3", "D: 4"];
  assert.equal((await send(five)).status, 200, "five fields are allowed");
  const many = await send([...five, "E: 5"]);
  assert.equal(many.status, 431);
  assert.equal(many.header("x-skiff-error"), "too_many_headers");

  assert.equal((await send(["Host: a", `X-Big: ${"v".repeat(900)}`])).status, 200);
  const big = await send(["Host: a", `X-Big: ${"v".repeat(2000)}`]);
  assert.equal(big.status, 431);
  assert.equal(big.header("x-skiff-error"), "head_too_large");

  for (const reason of ["too_many_headers", "head_too_large"]) {
    assert.equal(await metric(s, "skiff_malformed_requests_total", { reason }), 1, reason);
  }
  assert.equal(up.requests.length, 2);
});
