import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import { SocketConn } from "../../src/net/socket_conn.ts";

/** A connected pair of node:net sockets on loopback, each wrapped. */
async function pair(): Promise<{ client: SocketConn; server: SocketConn; close(): void }> {
  const srv = net.createServer({ allowHalfOpen: true });
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const port = (srv.address() as net.AddressInfo).port;
  const accepted = once(srv, "connection");
  const sock = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
  await once(sock, "connect");
  const [peer] = await accepted;
  return {
    client: new SocketConn(sock),
    server: new SocketConn(peer as net.Socket),
    close: () => srv.close(),
  };
}

async function readAll(conn: SocketConn): Promise<string> {
  const buf = new Uint8Array(7); // small on purpose: reads split chunks
  let text = "";
  const dec = new TextDecoder();
  for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
    text += dec.decode(buf.subarray(0, n), { stream: true });
  }
  return text;
}

Deno.test("SocketConn: bytes both ways, half-close, end of stream", async () => {
  const p = pair();
  const { client, server, close } = await p;
  try {
    assert.equal(client.remoteAddr.port, server.localAddr.port);
    assert.equal(client.remoteAddr.hostname, "127.0.0.1");
    const msg = "hello over a node socket, longer than one small read";
    assert.equal(await client.write(new TextEncoder().encode(msg)), msg.length);
    await client.closeWrite();
    assert.equal(await readAll(server), msg);
    // The server still writes after the client half-closed.
    await server.write(new TextEncoder().encode("reply"));
    await server.closeWrite();
    assert.equal(await readAll(client), "reply");
    assert.equal(await client.read(new Uint8Array(4)), null, "end of stream stays");
  } finally {
    client.close();
    server.close();
    close();
  }
});

Deno.test("SocketConn: close rejects a pending read with BadResource, and a second close throws", async () => {
  const { client, server, close } = await pair();
  try {
    const pending = client.read(new Uint8Array(16));
    client.close();
    await assert.rejects(pending, Deno.errors.BadResource);
    await assert.rejects(client.write(new Uint8Array(1)), Deno.errors.BadResource);
    assert.throws(() => client.close(), Deno.errors.BadResource);
    // The peer sees end of stream.
    assert.equal(await server.read(new Uint8Array(16)), null);
  } finally {
    server.close();
    close();
  }
});

Deno.test("SocketConn: a reset by the peer is Deno.errors.ConnectionReset", async () => {
  const { client, server, close } = await pair();
  try {
    server.socket.resetAndDestroy();
    await assert.rejects(
      (async () => {
        for (;;) {
          // Reads until the reset arrives (or end of stream, which would fail the test).
          if (await client.read(new Uint8Array(16)) === null) throw new Error("clean end");
        }
      })(),
      Deno.errors.ConnectionReset,
    );
  } finally {
    client.close();
    close();
  }
});
