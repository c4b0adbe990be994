// End-to-end: HTTP/1.1 connection management on both sides of skiff — HTTP/1.0 clients,
// `Connection: close` either way, upstreams closing pooled connections, clients leaving in
// the middle of a response.
import assert from "node:assert/strict";
import {
  oneRouteConfig,
  RawConn,
  startHttpUpstream,
  startSidecar,
  startTcpServer,
  waitFor,
} from "../_harness/mod.ts";
import { clusterView, metric, metricsText, sample } from "./_admin_api.ts";

const encoder = new TextEncoder();

/** An upstream answering the path; `/stream` with a body of unknown length (chunked). */
function pathUpstream() {
  return startHttpUpstream("app", (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/stream") {
      return new Response(
        ReadableStream.from([encoder.encode("part one, "), encoder.encode("two")]),
      );
    }
    return new Response(path);
  });
}

Deno.test("connections: HTTP/1.0 clients get close-delimited bodies unless they ask for keep-alive", async () => {
  await using up = pathUpstream();
  await using s = await startSidecar(oneRouteConfig(up.port));

  // A body of unknown length cannot be chunked for HTTP/1.0: it ends with the connection.
  await using c1 = await RawConn.connect(s.port("web"));
  await c1.send("GET /stream HTTP/1.0\r\nHost: a\r\n\r\n");
  const r1 = await c1.readResponse();
  assert.equal(r1.status, 200);
  assert.equal(r1.header("transfer-encoding"), undefined);
  assert.equal(r1.header("connection"), "close");
  assert.equal(r1.text(), "part one, two");

  // Keep-alive on request: the connection stays open for a second request.
  await using c2 = await RawConn.connect(s.port("web"));
  await c2.send("GET /one HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n");
  const r2 = await c2.readResponse();
  assert.equal(r2.header("connection"), "keep-alive");
  assert.equal(r2.text(), "/one");
  await c2.send("GET /two HTTP/1.0\r\nHost: a\r\n\r\n");
  const r3 = await c2.readResponse();
  assert.equal(r3.text(), "/two");
  assert.equal(r3.header("connection"), "close");
  assert.equal((await c2.readToEnd()).length, 0);
});

Deno.test("connections: an HTTP/1.0 request without Host is served", async () => {
  await using up = pathUpstream();
  await using s = await startSidecar(oneRouteConfig(up.port));
  await using c = await RawConn.connect(s.port("web"));
  await c.send("GET /no-host HTTP/1.0\r\n\r\n");
  const res = await c.readResponse();
  assert.equal(res.status, 200, res.text());
  assert.equal(res.text(), "/no-host");
});

Deno.test("connections: a client's Connection: close is honoured", async () => {
  await using up = pathUpstream();
  await using s = await startSidecar(oneRouteConfig(up.port));
  await using c = await RawConn.connect(s.port("web"));
  await c.send("GET /bye HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  const res = await c.readResponse();
  assert.equal(res.text(), "/bye");
  assert.equal(res.header("connection"), "close");
  assert.equal((await c.readToEnd()).length, 0);
});

/**
 * A raw upstream answering each request with its path; `close` decides per response
 * whether to close afterwards and whether to say so with `Connection: close`.
 */
function closingUpstream(mode: "silently" | "announced") {
  let n = 0;
  return startTcpServer(async (conn) => {
    const c = new RawConn(conn);
    const head = new TextDecoder().decode(await c.readUntil("\r\n\r\n"));
    const body = `${head.split(" ")[1]} #${n++}`;
    const close = mode === "announced" ? "Connection: close\r\n" : "";
    await c.send(`HTTP/1.1 200 OK\r\n${close}Content-Length: ${body.length}\r\n\r\n${body}`);
    // Then close, whether announced or not.
  });
}

for (const mode of ["silently", "announced"] as const) {
  Deno.test(`connections: an upstream closing after each response (${mode}) does not fail requests`, async () => {
    await using up = closingUpstream(mode);
    await using s = await startSidecar(oneRouteConfig(up.port));
    await using c = await RawConn.connect(s.port("web"));
    for (let i = 0; i < 5; i++) {
      await c.send(`GET /r${i} HTTP/1.1\r\nHost: a\r\n\r\n`);
      const res = await c.readResponse();
      assert.equal(res.status, 200, res.text());
      assert.equal(res.text(), `/r${i} #${i}`);
      // The upstream's close is not passed on: the client connection stays open.
      assert.equal(res.header("connection"), undefined);
    }
    assert.equal(up.accepted, 5);
    const errors = sample(await metricsText(s.adminUrl), "skiff_errors_total", {
      reason: "upstream_reset",
    });
    assert.equal(errors ?? 0, 0);
  });
}

Deno.test("connections: a client leaving mid-response does not poison the upstream pool", async () => {
  const big = new Uint8Array(8 * 1024 * 1024).fill(0x61);
  await using up = startHttpUpstream("app", (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/big") {
      return new Response(ReadableStream.from([big.subarray(0, 4 << 20), big.subarray(4 << 20)]));
    }
    return new Response(path);
  });
  await using s = await startSidecar(oneRouteConfig(up.port));
  {
    await using c = await RawConn.connect(s.port("web"));
    await c.send("GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
    await c.readUntil("\r\n\r\n");
    await c.readExactly(1024);
  } // closed with most of the body unread
  await waitFor(
    "the aborted exchange to be recorded",
    async () => (await metric(s, "skiff_errors_total", { reason: "downstream_reset" })) === 1,
  );
  // Whatever skiff did with the half-read upstream connection, the next request is clean.
  for (let i = 0; i < 3; i++) {
    const res = await fetch(s.url("web") + `/small${i}`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), `/small${i}`);
  }
  // No upstream connection is left busy with the abandoned response.
  await waitFor("every upstream connection to be idle or closed", async () => {
    const conns = (await clusterView(s.adminUrl, "app")).endpoints[0].connections;
    return conns !== null && conns.open === conns.idle;
  });
  assert.ok(
    !s.logs.some((l) => l.msg === "upstream failed during the response body"),
    "the client's departure was blamed on the upstream",
  );
  assert.equal(await metric(s, "skiff_errors_total", { reason: "upstream_reset" }), 0);
});

/** A sidecar whose cluster `app` has the given pool settings (YAML flow mapping). */
function withPool(upstreamPort: number, pool: string) {
  return startSidecar(
    oneRouteConfig(upstreamPort).replace(
      /(endpoints: \[.*\])/,
      `$1\n    pool: ${pool}`,
    ),
  );
}

Deno.test("pool: a request queued behind a full pool is served when the connection frees", async () => {
  const gate = Promise.withResolvers<void>();
  await using up = startHttpUpstream("app", async (req) => {
    if (new URL(req.url).pathname === "/first") await gate.promise;
    return new Response(new URL(req.url).pathname);
  });
  try {
    await using s = await withPool(up.port, "{ max_connections: 1, max_pending_requests: 5 }");
    const first = fetch(s.url("web") + "/first");
    await waitFor("the first request upstream", () => up.requests.length === 1);
    const second = fetch(s.url("web") + "/second");
    await waitFor(
      "the second request to queue",
      async () => (await clusterView(s.adminUrl, "app")).endpoints[0].connections?.pending === 1,
    );
    assert.equal(up.requests.length, 1, "the queued request waits for the connection");
    gate.resolve();
    assert.equal(await (await first).text(), "/first");
    assert.equal(await (await second).text(), "/second");
    assert.equal(new Set(up.requests.map((r) => r.remote)).size, 1, "one upstream connection");
  } finally {
    gate.resolve();
  }
});

Deno.test("pool: idle upstream connections are closed after pool.idle_timeout", async () => {
  let closed = 0;
  await using up = startTcpServer(async (conn) => {
    const c = new RawConn(conn);
    await c.readUntil("\r\n\r\n");
    await c.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    await c.readToEnd(30_000); // until skiff closes its side
    closed++;
  });
  await using s = await withPool(up.port, "{ idle_timeout: 300ms }");
  const res = await fetch(s.url("web") + "/");
  assert.equal(await res.text(), "ok");
  await waitFor("skiff to close the idle upstream connection", () => closed === 1);
  assert.equal((await clusterView(s.adminUrl, "app")).endpoints[0].connections?.open, 0);
  // The next request simply opens a new connection.
  assert.equal(await (await fetch(s.url("web") + "/")).text(), "ok");
  assert.equal(up.accepted, 2);
});

Deno.test("pool: max_requests_per_connection rotates upstream connections", async () => {
  await using up = startHttpUpstream("app");
  await using s = await withPool(up.port, "{ max_requests_per_connection: 2 }");
  await using c = await RawConn.connect(s.port("web"));
  for (let i = 0; i < 5; i++) {
    await c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal((await c.readResponse()).status, 200);
  }
  const remotes = up.requests.map((r) => r.remote);
  assert.equal(remotes[0], remotes[1]);
  assert.notEqual(remotes[1], remotes[2]);
  assert.equal(remotes[2], remotes[3]);
  assert.notEqual(remotes[3], remotes[4]);
});
