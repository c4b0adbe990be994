import assert from "node:assert/strict";
import { directOps, directRead, useDirectWrite } from "../../src/net/direct_ops.ts";
import { ConnReader, writeAll } from "../../src/net/conn_reader.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A connected loopback pair: [client, server]. */
async function pair(): Promise<[Deno.TcpConn, Deno.TcpConn, Deno.Listener]> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [a, b] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port: (l.addr as Deno.NetAddr).port }),
    l.accept(),
  ]);
  return [a, b as Deno.TcpConn, l];
}

function closeAll(...cs: { close(): void }[]): void {
  for (const c of cs) {
    try {
      c.close();
    } catch { /* closed */ }
  }
}

/** Replaces `conn`'s own methods with ones that fail the test when called. */
function forbidConnMethods(conn: Deno.Conn, names: ("read" | "write")[]): void {
  for (const name of names) {
    Object.defineProperty(conn, name, {
      value: () => Promise.reject(new Error(`Deno.Conn.${name} was called`)),
      configurable: true,
      writable: true,
    });
  }
}

Deno.test("the pinned Deno offers the socket operations skiff calls directly", () => {
  // Fails when a Deno upgrade drops `Deno[Deno.internal].core.read/write`: skiff then falls
  // back to Deno.Conn's methods (correct, ≈ 5 % slower), and direct_ops.ts wants a look.
  assert.equal(directOps, true);
});

Deno.test("directRead reads bytes and resolves 0 at the end of the stream", async () => {
  const [a, b, l] = await pair();
  try {
    const read = directRead(b);
    assert.ok(read);
    await writeAll(a, enc.encode("hello"));
    const buf = new Uint8Array(64);
    let got = "";
    while (got.length < 5) {
      const n = await read(buf);
      assert.ok(n > 0);
      got += dec.decode(buf.subarray(0, n));
    }
    assert.equal(got, "hello");
    await a.closeWrite();
    assert.equal(await read(buf), 0);
    b.close();
    await assert.rejects(read(buf), Deno.errors.BadResource);
  } finally {
    closeAll(a, b, l);
  }
});

Deno.test("directRead is null for what is not a Deno socket", () => {
  assert.equal(directRead({ read: () => Promise.resolve(null) }), null);
});

Deno.test("useDirectWrite: conn.write sends through the write operation", async () => {
  const [a, b, l] = await pair();
  try {
    useDirectWrite(a);
    assert.ok(Object.hasOwn(a, "write"), "conn.write replaced by the operation");
    const reader = new ConnReader(b);
    await writeAll(a, enc.encode("ping"));
    while (reader.available < 4) assert.ok((await reader.fill()) > 0);
    assert.equal(dec.decode(reader.take()), "ping");
    a.close();
    await assert.rejects(a.write(enc.encode("x")), Deno.errors.BadResource);
  } finally {
    closeAll(a, b, l);
  }
});

Deno.test("ConnReader reads a Deno socket without Deno.Conn.read", async () => {
  const [a, b, l] = await pair();
  try {
    forbidConnMethods(b, ["read"]);
    const reader = new ConnReader(b, 16);
    await writeAll(a, enc.encode("0123456789abcdefXYZ"));
    a.close();
    let total = 0;
    for (let n = await reader.fill(64); n > 0; n = await reader.fill(64)) total += n;
    assert.equal(total, 19);
    assert.equal(dec.decode(reader.take()), "0123456789abcdefXYZ");
  } finally {
    closeAll(a, b, l);
  }
});
