// FrameWriter on real loopback sockets: frames arrive in order and byte-exact (payloads
// copied when queued), control frames are counted until written, and after a failed
// write nothing piles up and nobody waits forever.
import assert from "node:assert/strict";
import { FrameType } from "../../../src/dataplane/http2/frame.ts";
import { FrameWriter } from "../../../src/dataplane/http2/frame_writer.ts";
import { RawH2, within } from "./_h2_peers.ts";

/** A connected pair of loopback sockets. */
async function pair(): Promise<[Deno.TcpConn, Deno.TcpConn]> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const a = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const b = await accepted;
  listener.close();
  return [a, b];
}

Deno.test("frames arrive in order with the payload as it was when queued", async () => {
  const [a, b] = await pair();
  const peer = new RawH2(b);
  const errors: unknown[] = [];
  const w = new FrameWriter(a, (e) => errors.push(e));
  try {
    const payload = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    w.frame(FrameType.DATA, 1, 3, payload, 2, 6);
    payload.fill(0); // the writer copied it already
    const [buf, at] = w.frameInPlace(FrameType.RST_STREAM, 0, 5, 4);
    buf.set([0, 0, 0, 8], at);
    w.frame(FrameType.PING, 1, 0, new Uint8Array(8).fill(9));
    await within("the writes", w.drained());
    const f1 = await peer.next();
    assert.deepEqual(
      { ...f1, payload: [...f1!.payload] },
      { type: FrameType.DATA, flags: 1, id: 3, payload: [3, 4, 5, 6] },
    );
    const f2 = await peer.next();
    assert.deepEqual([f2!.type, f2!.id, ...f2!.payload], [FrameType.RST_STREAM, 5, 0, 0, 0, 8]);
    const f3 = await peer.next();
    assert.deepEqual([f3!.type, f3!.flags, ...f3!.payload], [
      FrameType.PING,
      1,
      9,
      9,
      9,
      9,
      9,
      9,
      9,
      9,
    ]);
    assert.deepEqual(errors, []);
  } finally {
    a.close();
    peer.close();
  }
});

Deno.test("control frames count as backlog until written; DATA does not", async () => {
  const [a, b] = await pair();
  const peer = new RawH2(b);
  const w = new FrameWriter(a, () => {});
  try {
    w.frame(FrameType.DATA, 0, 1, new Uint8Array(100));
    w.frame(FrameType.HEADERS, 4, 1, new Uint8Array(3));
    w.frame(FrameType.PING, 1, 0, new Uint8Array(8));
    w.frame(FrameType.SETTINGS, 1, 0);
    w.frameInPlace(FrameType.WINDOW_UPDATE, 0, 0, 4);
    assert.equal(w.controlBacklog, 3);
    await within("the writes", w.drained());
    assert.equal(w.controlBacklog, 0);
    assert.equal(w.buffered, 0);
    for (let i = 0; i < 5; i++) assert.notEqual(await peer.next(), null);
  } finally {
    a.close();
    peer.close();
  }
});

Deno.test("after a failed write, frames are dropped and drained() still resolves", async () => {
  const [a, b] = await pair();
  b.close(); // the peer is gone: writes fail once the kernel hears of it
  const errors: unknown[] = [];
  const w = new FrameWriter(a, (e) => errors.push(e));
  try {
    const chunk = new Uint8Array(16_384);
    // Write until the failure shows (bounded: 64 MiB is far past any socket buffer).
    for (let i = 0; i < 4096 && !w.failed; i++) {
      w.frame(FrameType.DATA, 0, 1, chunk);
      await within("a write to finish or fail", w.drained());
    }
    assert.ok(w.failed, "writes to a closed peer never failed");
    assert.equal(errors.length, 1, "onError is called once");
    for (let i = 0; i < 1000; i++) w.frame(FrameType.DATA, 0, 1, chunk);
    w.frameInPlace(FrameType.PING, 0, 0, 8);
    assert.ok(w.buffered <= 16_384 + 9 + 17, `${w.buffered} bytes kept for a dead socket`);
    await within("drained() after the failure", w.drained());
    assert.equal(errors.length, 1);
  } finally {
    a.close();
  }
});
