// End-to-end: connections upgraded through skiff — WebSocket with Deno's client and server,
// and a raw non-WebSocket `Upgrade` whose bytes must pass both ways untouched.
import assert from "node:assert/strict";
import {
  concatBytes,
  oneRouteConfig,
  randomBytes,
  RawConn,
  sha256,
  startHttpUpstream,
  startSidecar,
  startTcpServer,
} from "../_harness/mod.ts";

/** Messages of a WebSocket as a queue; `next()` waits for one with a deadline. */
function messages(ws: WebSocket) {
  const queue: MessageEvent[] = [];
  let wake: (() => void) | undefined;
  const opened = new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = (e) => reject(new Error(`WebSocket error: ${(e as ErrorEvent).message}`));
  });
  const closed = new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
  ws.onmessage = (e) => {
    queue.push(e);
    wake?.();
  };
  return {
    opened,
    closed,
    async next(timeoutMs = 10_000): Promise<MessageEvent> {
      const deadline = Date.now() + timeoutMs;
      while (queue.length === 0) {
        if (Date.now() > deadline) throw new Error("No WebSocket message in time");
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, Math.max(1, deadline - Date.now()));
        });
      }
      return queue.shift()!;
    },
  };
}

Deno.test("upgrade: WebSocket messages are echoed byte-exact through skiff, 1 MiB binary too", async () => {
  await using up = startHttpUpstream("ws", (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onmessage = (e) => socket.send(e.data);
    return response;
  });
  await using s = await startSidecar(oneRouteConfig(up.port));

  const ws = new WebSocket(s.url("web").replace("http:", "ws:") + "/chat?room=1");
  ws.binaryType = "arraybuffer";
  const m = messages(ws);
  try {
    await m.opened;
    ws.send("hello, skiff ✓");
    assert.equal((await m.next()).data, "hello, skiff ✓");
    const big = randomBytes(1024 * 1024);
    ws.send(big);
    const echoed = new Uint8Array((await m.next()).data as ArrayBuffer);
    assert.equal(echoed.length, big.length);
    assert.equal(sha256(echoed), sha256(big));
    for (let i = 0; i < 20; i++) ws.send(`msg ${i}`);
    for (let i = 0; i < 20; i++) assert.equal((await m.next()).data, `msg ${i}`);
  } finally {
    ws.close(1000, "done");
  }
  const closed = await m.closed;
  assert.equal(closed.code, 1000);
  assert.equal(new URL(up.requests[0].url).pathname, "/chat");
  assert.equal(up.requests[0].headers.get("upgrade")?.toLowerCase(), "websocket");
});

Deno.test("upgrade: a raw `Upgrade: foo` gets 101 and bytes pass both ways byte for byte", async () => {
  const toUpstream = randomBytes(300 * 1024);
  const toClient = randomBytes(200 * 1024 + 7);
  const seen: { head?: string; bytes?: Uint8Array } = {};
  // The upstream answers 101 with its first protocol bytes in the same write, reads until
  // the client half-closes, then sends its payload and closes.
  await using up = startTcpServer(async (conn) => {
    const c = new RawConn(conn);
    seen.head = new TextDecoder().decode(await c.readUntil("\r\n\r\n"));
    await c.send(concatBytes([
      new TextEncoder().encode(
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: foo\r\n\r\n",
      ),
      toClient.subarray(0, 5),
    ]));
    seen.bytes = await c.readToEnd(20_000);
    await c.send(toClient.subarray(5));
  });
  await using s = await startSidecar(oneRouteConfig(up.port));

  await using c = await RawConn.connect(s.port("web"));
  // The head and the first bytes of the new protocol in one write.
  await c.send(concatBytes([
    new TextEncoder().encode(
      "GET /tunnel HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: foo\r\n\r\n",
    ),
    toUpstream.subarray(0, 10),
  ]));
  const head = new TextDecoder().decode(await c.readUntil("\r\n\r\n"));
  assert.match(head, /^HTTP\/1\.1 101 /);
  assert.match(head, /\r\nupgrade: foo\r\n/i);
  assert.match(head, /\r\nconnection: upgrade\r\n/i);
  await c.send(toUpstream.subarray(10));
  await c.closeWrite();
  const got = await c.readToEnd(20_000);

  assert.match(seen.head!, /^GET \/tunnel HTTP\/1\.1\r\n/);
  assert.match(seen.head!, /\r\nupgrade: foo\r\n/i);
  assert.match(seen.head!, /\r\nconnection: upgrade\r\n/i);
  assert.equal(seen.bytes!.length, toUpstream.length);
  assert.equal(sha256(seen.bytes!), sha256(toUpstream));
  assert.equal(got.length, toClient.length);
  assert.equal(sha256(got), sha256(toClient));
});

Deno.test("upgrade: an upstream declining the upgrade answers normally on a usable connection", async () => {
  await using up = startHttpUpstream(
    "app",
    (req) => new Response(`no upgrade for ${new URL(req.url).pathname}`),
  );
  await using s = await startSidecar(oneRouteConfig(up.port));
  await using c = await RawConn.connect(s.port("web"));
  await c.send("GET /tunnel HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: foo\r\n\r\n");
  const res = await c.readResponse();
  assert.equal(res.status, 200);
  assert.equal(res.text(), "no upgrade for /tunnel");
  await c.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.equal((await c.readResponse()).text(), "no upgrade for /next");
});
