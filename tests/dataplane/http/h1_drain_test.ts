// Graceful drain of accepted HTTP/1.1 connections: an `H1ServerConnection` on real loopback
// sockets, with an in-process handler the test answers by hand and virtual time for the
// drain's idle timeout.
import assert from "node:assert/strict";
import { silentLogger } from "../../../src/core/mod.ts";
import { ConnReader } from "../../../src/net/conn_reader.ts";
import { BufferedBody } from "../../../src/dataplane/http/body.ts";
import { H1ServerConnection } from "../../../src/dataplane/http/h1_server.ts";
import type { ProxyResponse } from "../../../src/dataplane/http/message.ts";
import { RawConn, startTcpEcho } from "../../_harness/mod.ts";
import { FedBody, HandOffServer } from "./_hand_off_server.ts";

const DRAIN_IDLE_MS = 1_000;
/** How long a test waits for the server to close a connection it should close. */
const CLOSE_DEADLINE_MS = 5_000;

const text = new TextEncoder();

/** An HTTP/1.1 server (skiff's) on loopback whose handler hands each request to the test. */
class DrainServer extends HandOffServer {
  constructor() {
    super((conn, s) =>
      // `serve` subscribes to the drain and starts waiting for a head before it returns.
      new H1ServerConnection(conn, new ConnReader(conn), "127.0.0.1:1", {
        listener: "test",
        limits: { maxHeadBytes: 65536, maxHeaders: 100 },
        idleTimeoutMs: 60_000,
        headersTimeoutMs: 60_000,
        requestTimeoutMs: 60_000,
        clock: s.clock,
        wheel: s.wheel,
        log: silentLogger(s.clock),
        handler: s.handler,
        onMalformed: () => {},
        onTimeout: () => {},
        drain: s.drain,
        drainIdleTimeoutMs: DRAIN_IDLE_MS,
      }).serve()
    );
  }
}

function get(path: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: test\r\n\r\n`;
}

function ok(body: string): ProxyResponse {
  return {
    status: 200,
    headers: ["content-type", "text/plain"],
    body: new BufferedBody(text.encode(body)),
  };
}

/** Expects the server to close the connection with nothing more sent. */
async function expectClosed(c: RawConn): Promise<void> {
  const rest = await c.readToEnd(CLOSE_DEADLINE_MS);
  assert.equal(new TextDecoder().decode(rest), "", "nothing after the last response");
}

Deno.test("h1 drain: a request waiting for its upstream gets connection: close, then the connection closes after the full body", async () => {
  const s = new DrainServer();
  const c = await RawConn.connect(s.port);
  try {
    await c.send(get("/slow"));
    const p = await s.next();
    s.drain.start();
    const body = "x".repeat(200_000); // more than one write
    p.respond(ok(body));
    const res = await c.readResponse();
    assert.equal(res.status, 200);
    assert.equal(res.header("connection"), "close");
    assert.equal(res.text(), body);
    await expectClosed(c);
  } finally {
    c.close();
    await s.close();
  }
});

Deno.test("h1 drain: after a response whose head is already out, the next request is answered with connection: close", async () => {
  const s = new DrainServer();
  const c = await RawConn.connect(s.port);
  try {
    await c.send(get("/stream"));
    const p = await s.next();
    const body = new FedBody(10);
    p.respond({ status: 200, headers: [], body });
    const head = new TextDecoder().decode(await c.readUntil("\r\n\r\n"));
    assert.doesNotMatch(head, /connection: close/i, "the head went out before the drain");
    s.drain.start();
    body.push(text.encode("01234"));
    body.push(text.encode("56789"));
    body.push(null);
    assert.equal(new TextDecoder().decode(await c.readExactly(10)), "0123456789");
    // The response promised keep-alive: a client may send its next request at once, and it
    // must be answered (closing here would fail it), with connection: close.
    await c.send(get("/next"));
    const next = await s.next();
    next.respond(ok("last"));
    const res = await c.readResponse();
    assert.equal(res.status, 200);
    assert.equal(res.header("connection"), "close");
    assert.equal(res.text(), "last");
    await expectClosed(c);
  } finally {
    c.close();
    await s.close();
  }
});

Deno.test("h1 drain: an idle keep-alive connection closes after the drain idle timeout", async () => {
  const s = new DrainServer();
  const c = await RawConn.connect(s.port);
  try {
    await c.send(get("/first"));
    (await s.next()).respond(ok("first"));
    const res = await c.readResponse();
    assert.equal(res.header("connection"), undefined, "kept alive before the drain");
    await s.finished(1); // the connection waits for its next request now
    s.drain.start();
    // (Not closed at once, which would lose a request racing the close: the next test.)
    s.clock.advance(DRAIN_IDLE_MS + 100);
    await expectClosed(c);
    assert.deepEqual(s.seen, ["/first"]);
  } finally {
    c.close();
    await s.close();
  }
});

Deno.test("h1 drain: a request on an idle connection before the drain idle timeout is answered with connection: close", async () => {
  const s = new DrainServer();
  const c = await RawConn.connect(s.port);
  try {
    await c.send(get("/first"));
    (await s.next()).respond(ok("first"));
    await c.readResponse();
    await s.finished(1);
    s.drain.start();
    s.clock.advance(DRAIN_IDLE_MS / 2);
    await c.send(get("/second"));
    (await s.next()).respond(ok("second"));
    const res = await c.readResponse();
    assert.equal(res.text(), "second");
    assert.equal(res.header("connection"), "close");
    await expectClosed(c);
  } finally {
    c.close();
    await s.close();
  }
});

Deno.test("h1 drain: a connection accepted after the drain started is served once, with connection: close", async () => {
  const s = new DrainServer();
  s.drain.start();
  const c = await RawConn.connect(s.port);
  try {
    await c.send(get("/late"));
    (await s.next()).respond(ok("late"));
    const res = await c.readResponse();
    assert.equal(res.header("connection"), "close");
    await expectClosed(c);
  } finally {
    c.close();
    await s.close();
  }
});

Deno.test("h1 drain: a connection accepted after the drain started and left idle closes after the drain idle timeout", async () => {
  const s = new DrainServer();
  s.drain.start();
  const c = await RawConn.connect(s.port);
  try {
    await s.served(1);
    s.clock.advance(DRAIN_IDLE_MS + 100);
    await expectClosed(c);
  } finally {
    c.close();
    await s.close();
  }
});

Deno.test("h1 drain: a pipelined request behind the drained response is not served", async () => {
  const s = new DrainServer();
  const c = await RawConn.connect(s.port);
  try {
    await c.send(get("/a") + get("/b"));
    const p = await s.next();
    s.drain.start();
    p.respond(ok("a"));
    const res = await c.readResponse();
    assert.equal(res.text(), "a");
    assert.equal(res.header("connection"), "close");
    await expectClosed(c);
    assert.deepEqual(s.seen, ["/a"]);
  } finally {
    c.close();
    await s.close();
  }
});

Deno.test("h1 drain: a request the server never read does not reset the drained connection", async () => {
  const s = new DrainServer();
  const c = await RawConn.connect(s.port);
  try {
    await c.send(get("/a"));
    const p = await s.next();
    // Sent while the server waits for its upstream: unread when the connection closes.
    await c.send(get("/b"));
    s.drain.start();
    // Large enough that the end of it still waits in the server's send buffer when the
    // server is done writing: a close with unread bytes (a reset) would drop it.
    const size = 16 * 1024 * 1024;
    p.respond({ status: 200, headers: [], body: new BufferedBody(new Uint8Array(size)) });
    const res = await c.readResponse();
    assert.equal(res.body.length, size);
    assert.equal(res.header("connection"), "close");
    await expectClosed(c);
    assert.equal(c.reset, false, "closed with a FIN, not a reset");
    assert.deepEqual(s.seen, ["/a"]);
  } finally {
    c.close();
    await s.close();
  }
});

Deno.test("h1 drain: an upgraded tunnel is left open", async () => {
  const s = new DrainServer();
  const echo = startTcpEcho();
  const c = await RawConn.connect(s.port);
  try {
    await c.send(
      "GET /ws HTTP/1.1\r\nHost: test\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
    );
    const p = await s.next();
    const up = await Deno.connect({ hostname: "127.0.0.1", port: echo.port });
    p.respond({
      status: 101,
      headers: [],
      body: null,
      upgraded: {
        leftover: new Uint8Array(0),
        read: (b) => up.read(b),
        write: (b) => up.write(b),
        closeWrite: () => up.closeWrite(),
        close: () => up.close(),
      },
    });
    const head = new TextDecoder().decode(await c.readUntil("\r\n\r\n"));
    assert.match(head, /^HTTP\/1\.1 101 /);
    s.drain.start();
    s.clock.advance(DRAIN_IDLE_MS * 5);
    await c.send("still here");
    assert.equal(new TextDecoder().decode(await c.readExactly(10)), "still here");
    await c.closeWrite();
    await expectClosed(c);
  } finally {
    c.close();
    await s.close();
    await echo.close();
  }
});
