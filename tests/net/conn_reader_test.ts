import assert from "node:assert/strict";
import fc from "fast-check";
import { ConnReader, writeAll } from "../../src/net/conn_reader.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * A connection whose reads stay pending until the test delivers bytes (or EOF). Like a
 * socket, bytes are written into the read's buffer only when the read completes.
 */
class ManualConn {
  reads = 0;
  #waiting: { p: Uint8Array; resolve: (n: number | null) => void } | null = null;

  read(p: Uint8Array): Promise<number | null> {
    this.reads++;
    assert.equal(this.#waiting, null, "two reads in flight at once");
    const { promise, resolve } = Promise.withResolvers<number | null>();
    this.#waiting = { p, resolve };
    return promise;
  }

  /** Completes the pending read with `text` (at most what fits), or EOF for null. */
  deliver(text: string | null): void {
    const w = this.#waiting;
    assert.ok(w, "no read in flight");
    this.#waiting = null;
    if (text === null) return w.resolve(null);
    const n = enc.encodeInto(text, w.p).written;
    w.resolve(n);
  }
}

/** A connection that answers each read from `parts` immediately, then EOF. */
function scripted(parts: string[]): { read(p: Uint8Array): Promise<number | null> } {
  const queue = parts.map((s) => enc.encode(s));
  return {
    read(p) {
      const next = queue.shift();
      if (next === undefined) return Promise.resolve(null);
      const n = Math.min(p.length, next.length);
      p.set(next.subarray(0, n));
      if (n < next.length) queue.unshift(next.subarray(n));
      return Promise.resolve(n);
    },
  };
}

Deno.test("fill, take and consume hand out the bytes in order; 0 at end of stream", async () => {
  const r = new ConnReader(scripted(["hello ", "world"]), 64);
  assert.equal(await r.fill(), 6);
  assert.equal(await r.fill(), 5);
  assert.equal(r.available, 11);
  r.consume(2);
  assert.equal(dec.decode(r.take(3)), "llo");
  assert.equal(dec.decode(r.take()), " world");
  assert.equal(r.available, 0);
  assert.equal(await r.fill(), 0);
  assert.equal(r.bytesRead, 11);
});

Deno.test("fill grows the buffer up to maxBytes, then refuses with a RangeError", async () => {
  const r = new ConnReader(scripted(["x".repeat(100)]), 16);
  let got = 0;
  while (got < 64) got += await r.fill(64);
  assert.equal(r.available, 64);
  assert.equal(dec.decode(r.take()), "x".repeat(64));
  const full = new ConnReader(scripted(["y".repeat(100)]), 16);
  while (full.available < 32) await full.fill(32);
  await assert.rejects(() => full.fill(32), RangeError);
});

Deno.test("data survives compaction and growth, whatever the read and consume sizes", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 30 }),
      fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 30 }),
      async (sizes, takes) => {
        const parts = sizes.map((n, i) => String.fromCharCode(97 + (i % 26)).repeat(n));
        const r = new ConnReader(scripted(parts), 8);
        let out = "";
        for (let i = 0;; i++) {
          if (r.available < 128 && (await r.fill(256)) === 0 && r.available === 0) break;
          out += dec.decode(r.take(takes[i % takes.length]));
        }
        assert.equal(out, parts.join(""));
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("prefetch starts a read that the next fill picks up", async () => {
  const conn = new ManualConn();
  const r = new ConnReader(conn, 64);
  const early = r.prefetch();
  assert.equal(r.reading, true);
  assert.equal(r.prefetch(), early, "a second prefetch must not start another read");
  const filled = r.fill();
  assert.equal(conn.reads, 1);
  conn.deliver("abc");
  assert.equal(await filled, 3);
  assert.equal(await early, 3);
  assert.equal(r.reading, false);
  assert.equal(dec.decode(r.take()), "abc");
});

Deno.test("bytes arriving after everything buffered was taken are not lost", async () => {
  // A read is in flight while the caller takes every buffered byte (the TCP path after
  // protocol detection does this). The bytes must land after what is buffered now, not
  // where the buffer's end was when the read started.
  const conn = new ManualConn();
  const r = new ConnReader(conn, 64);
  const first = r.fill();
  conn.deliver("GE");
  await first;
  const inFlight = r.prefetch();
  assert.equal(dec.decode(r.take()), "GE");
  conn.deliver("XYZ");
  assert.equal(await inFlight, 3);
  assert.equal(dec.decode(r.take()), "XYZ");

  // The same with part of the buffered bytes left unconsumed.
  const again = r.prefetch();
  await Promise.resolve();
  conn.deliver("1234");
  await again;
  r.consume(1);
  const next = r.prefetch();
  r.consume(1);
  conn.deliver("56");
  await next;
  assert.equal(dec.decode(r.take()), "3456");
});

Deno.test("unshift puts bytes back in front of the buffered ones", async () => {
  const r = new ConnReader(scripted(["world"]), 4);
  await r.fill();
  r.unshift(enc.encode("hello "));
  assert.equal(dec.decode(r.take()), "hello worl");
  await r.fill();
  assert.equal(dec.decode(r.take()), "d");
});

Deno.test("writeAll keeps writing until a short-writing connection took everything", async () => {
  const written: number[] = [];
  const writer = {
    write(p: Uint8Array) {
      const n = Math.min(3, p.length);
      written.push(...p.subarray(0, n));
      return Promise.resolve(n);
    },
  };
  const data = enc.encode("a fairly long message");
  await writeAll(writer, data);
  assert.deepEqual(written, [...data]);
});
