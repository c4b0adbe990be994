// End-to-end: plain TCP proxying (`protocol: tcp`) and protocol detection (`protocol: auto`)
// with raw sockets — bytes, half-close, connect failures, silent and server-first clients.
import assert from "node:assert/strict";
import {
  concatBytes,
  freePort,
  randomBytes,
  RawConn,
  sha256,
  startBlackhole,
  startHttpUpstream,
  startSidecar,
  startTcpEcho,
  startTcpServer,
  waitFor,
} from "../_harness/mod.ts";
import { metric } from "./_admin_api.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A sidecar with one TCP listener `db` forwarding to cluster `cluster` of `ports` (and an
 * admin server); `tcp` and `listener` add keys to the listener's `tcp:` map and block.
 */
function tcpSidecar(
  cluster: string,
  ports: number[],
  extra: { tcp?: string; listener?: string } = {},
) {
  return startSidecar(`
admin: { address: "127.0.0.1:0" }
listeners:
  - name: db
    address: 127.0.0.1:0
    protocol: tcp
    tcp: { cluster: ${cluster}${extra.tcp ? ", " + extra.tcp : ""} }
${extra.listener ? "    " + extra.listener + "\n" : ""}clusters:
  - name: ${cluster}
    endpoints:
${ports.map((port) => `      - address: "127.0.0.1:${port}"`).join("\n")}
`);
}

/** A server-first upstream: writes a banner on connect, then echoes. */
function startBannerServer(banner: string) {
  return startTcpServer(async (conn) => {
    await conn.write(encoder.encode(banner));
    const buf = new Uint8Array(16 * 1024);
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
      await conn.write(buf.subarray(0, n));
    }
    await conn.closeWrite();
  });
}

Deno.test("tcp: bytes are echoed, and a half-close delivers all data before EOF", async () => {
  await using echo = startTcpEcho();
  await using s = await tcpSidecar("echo", [echo.port]);
  await using c = await RawConn.connect(s.port("db"));
  // Interactive: a small write comes back before the client stops sending.
  await c.send("ping\n");
  assert.equal(decoder.decode(await c.readExactly(5)), "ping\n");
  // Then a large payload and a half-close: every byte comes back, then EOF.
  const payload = randomBytes(2 * 1024 * 1024 + 3);
  const reading = c.readToEnd(30_000);
  await c.send(payload);
  await c.closeWrite();
  const back = await reading;
  assert.equal(back.length, payload.length);
  assert.equal(sha256(back), sha256(payload));
  assert.equal(echo.accepted, 1);
  await waitFor(
    "the TCP connection on /metrics",
    async () =>
      (await metric(s, "skiff_tcp_connections_total", { listener: "db", cluster: "echo" })) === 1,
  );
});

Deno.test("tcp: an upstream that half-closes first still receives the client's bytes", async () => {
  const received: string[] = [];
  // Says goodbye and half-closes at once, then keeps reading until the client is done.
  await using up = startTcpServer(async (conn) => {
    await conn.write(encoder.encode("bye"));
    await conn.closeWrite();
    received.push(decoder.decode(await new RawConn(conn).readToEnd()));
  });
  await using s = await tcpSidecar("up", [up.port]);
  await using c = await RawConn.connect(s.port("db"));
  assert.equal(decoder.decode(await c.readToEnd()), "bye"); // EOF after the goodbye
  await c.send("late words");
  await c.closeWrite();
  await waitFor("the upstream to read the client's bytes", () => received.length === 1);
  assert.equal(received[0], "late words");
});

Deno.test("tcp: when the upstream refuses, the client connection is closed", async () => {
  await using s = await tcpSidecar("gone", [freePort()]);
  await using c = await RawConn.connect(s.port("db"));
  await c.send("hello?");
  assert.equal((await c.readToEnd()).length, 0);
  await waitFor(
    "a connect_failure on /metrics",
    async () =>
      (await metric(s, "skiff_errors_total", { listener: "db", reason: "connect_failure" })) === 1,
  );
  assert.ok(s.logs.some((l) => l.msg === "tcp connect failed"), JSON.stringify(s.logs));
});

Deno.test("tcp: an idle tunnel is closed after tcp.idle_timeout", async () => {
  await using echo = startTcpEcho();
  await using s = await tcpSidecar("echo", [echo.port], { tcp: "idle_timeout: 300ms" });
  await using c = await RawConn.connect(s.port("db"));
  await c.send("still here?");
  assert.equal(decoder.decode(await c.readExactly(11)), "still here?");
  // No traffic either way: skiff closes both ends.
  assert.equal((await c.readToEnd()).length, 0);
});

Deno.test("tcp: an upstream that never completes the handshake hits connect_timeout", async () => {
  await using hole = await startBlackhole();
  await using s = await startSidecar(`
admin: { address: "127.0.0.1:0" }
listeners:
  - name: db
    address: 127.0.0.1:0
    protocol: tcp
    tcp: { cluster: hole }
  - name: web
    address: 127.0.0.1:0
    routes: [{ cluster: hole }]
clusters:
  - name: hole
    connect_timeout: 200ms
    endpoints: [{ address: "127.0.0.1:${hole.port}" }]
`);
  await using c = await RawConn.connect(s.port("db"));
  assert.equal((await c.readToEnd()).length, 0);
  await waitFor(
    "a TCP connect_timeout on /metrics",
    async () =>
      (await metric(s, "skiff_errors_total", { listener: "db", reason: "connect_timeout" })) === 1,
  );

  // The same cluster behind an HTTP route: 503 connect_timeout.
  const res = await fetch(s.url("web") + "/");
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("x-skiff-error"), "connect_timeout");
  await res.body?.cancel();
});

Deno.test("tcp: a refusing endpoint is skipped for the next one", async () => {
  await using echo = startTcpEcho();
  await using s = await tcpSidecar("two", [freePort(), echo.port]);
  // Round robin starts on either endpoint; every connection ends up at the echo server.
  for (let i = 0; i < 4; i++) {
    await using c = await RawConn.connect(s.port("db"));
    await c.send(`hello ${i}`);
    await c.closeWrite();
    assert.equal(decoder.decode(await c.readToEnd()), `hello ${i}`);
  }
  assert.equal(echo.accepted, 4);
});

Deno.test("tcp: max_connections closes extra connections without a byte", async () => {
  await using echo = startTcpEcho();
  await using s = await tcpSidecar("echo", [echo.port], {
    listener: "limits: { max_connections: 1 }",
  });
  await using c1 = await RawConn.connect(s.port("db"));
  await c1.send("one");
  assert.equal(decoder.decode(await c1.readExactly(3)), "one");
  await using c2 = await RawConn.connect(s.port("db"));
  assert.equal((await c2.readToEnd()).length, 0);
  assert.equal(await metric(s, "skiff_errors_total", { listener: "db", reason: "overflow" }), 1);
  // The first connection is unaffected.
  await c1.send("still");
  assert.equal(decoder.decode(await c1.readExactly(5)), "still");
});

/** An `auto` listener: HTTP to `app`, everything else over TCP to `tcp`. */
function autoConfig(httpPort: number, tcpPort: number, detection: string, port = 0): string {
  return `
admin: { address: "127.0.0.1:0" }
listeners:
  - name: mixed
    address: 127.0.0.1:${port}
    protocol: auto
    detection: ${detection}
    routes: [{ cluster: app }]
    tcp: { cluster: tcp }
clusters:
  - name: app
    endpoints: [{ address: "127.0.0.1:${httpPort}" }]
  - name: tcp
    endpoints: [{ address: "127.0.0.1:${tcpPort}" }]
`;
}

Deno.test("auto: HTTP is routed, anything else is tunnelled byte for byte", async () => {
  await using app = startHttpUpstream("app");
  await using echo = startTcpEcho();
  await using s = await startSidecar(autoConfig(app.port, echo.port, "{ timeout: 5s }"));

  const res = await fetch(s.url("mixed") + "/page");
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "app");
  assert.equal(app.requests.length, 1);

  // A TLS-ClientHello-like start and text that begins like a method but is not one.
  const payloads = [
    concatBytes([Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0x00, 0x01), randomBytes(4096)]),
    encoder.encode("GETTING STARTED\r\n\r\nthis is not HTTP\n"),
  ];
  for (const payload of payloads) {
    await using c = await RawConn.connect(s.port("mixed"));
    await c.send(payload);
    await c.closeWrite();
    const back = await c.readToEnd();
    assert.equal(sha256(back), sha256(payload));
  }
  assert.equal(echo.accepted, 2);
  assert.equal(app.requests.length, 1, "no tunnelled bytes reached the HTTP upstream");
  const detected = async (protocol: string) =>
    await metric(s, "skiff_downstream_protocol_detected_total", { listener: "mixed", protocol });
  assert.equal(await detected("http1"), 1);
  assert.equal(await detected("tcp"), 2);
});

Deno.test("auto: a silent client is tunnelled after the detection timeout", async () => {
  await using app = startHttpUpstream("app");
  await using echo = startTcpEcho();
  await using s = await startSidecar(autoConfig(app.port, echo.port, "{ timeout: 200ms }"));

  await using c = await RawConn.connect(s.port("mixed"));
  // Nothing sent: after the detection timeout skiff connects to the TCP cluster.
  await waitFor("skiff to connect to the TCP upstream", () => echo.accepted === 1);
  // From now on bytes are tunnelled, even ones that look like HTTP.
  const request = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  await c.send(request);
  assert.equal(decoder.decode(await c.readExactly(request.length)), request);
  await c.closeWrite();
  assert.equal((await c.readToEnd()).length, 0);
  assert.equal(app.requests.length, 0);

  // A server-first protocol works the same way: the banner arrives without a client byte.
  await using banner = startBannerServer("220 banner ready\r\n");
  await using s2 = await startSidecar(autoConfig(app.port, banner.port, "{ timeout: 200ms }"));
  await using c2 = await RawConn.connect(s2.port("mixed"));
  assert.equal(decoder.decode(await c2.readUntil("\r\n")), "220 banner ready\r\n");
});

Deno.test("auto: a port in server_first_ports skips detection", async () => {
  await using app = startHttpUpstream("app");
  await using banner = startBannerServer("SSH-2.0-test\r\n");
  const port = freePort();
  // Detection would wait an hour for the client's first bytes: only skipping it gets the
  // banner through.
  await using s = await startSidecar(
    autoConfig(app.port, banner.port, `{ timeout: 1h, server_first_ports: [${port}] }`, port),
  );
  assert.equal(s.port("mixed"), port);
  await using c = await RawConn.connect(port);
  assert.equal(decoder.decode(await c.readUntil("\r\n")), "SSH-2.0-test\r\n");
  await c.send("GET / HTTP/1.1\r\n\r\n");
  assert.equal(decoder.decode(await c.readExactly(18)), "GET / HTTP/1.1\r\n\r\n");
  assert.equal(app.requests.length, 0);
});
