import assert from "node:assert/strict";
import fc from "fast-check";
import { Ring, RingCorruptError, SharedWasm } from "../../src/wasm/mod.ts";
import { mismatch, record } from "./_records.ts";

const DATA = 256; // ring header bytes before the data area (wasm/README.md)
const bytes = (...b: number[]) => new Uint8Array(b);

function corruptError(fn: () => unknown): RingCorruptError {
  try {
    fn();
  } catch (err) {
    if (err instanceof RingCorruptError) return err;
    throw err;
  }
  throw new Error("Expected a RingCorruptError");
}

Deno.test("Ring round-trips type, version and payload, in order", () => {
  const ring = Ring.create(SharedWasm.create(), 1024);
  assert.equal(ring.capacity, 1024);
  assert.equal(ring.maxPayload, 500);
  assert.equal(ring.pop(), null);
  assert.ok(ring.push(7, bytes(1, 2, 3), 2));
  assert.ok(ring.push(65535, new Uint8Array(0)));
  assert.ok(ring.push(0, new Uint8Array(500).fill(9), 65535));
  assert.deepEqual(ring.pop(), { type: 7, version: 2, payload: bytes(1, 2, 3) });
  assert.deepEqual(ring.pop(), { type: 65535, version: 0, payload: new Uint8Array(0) });
  assert.deepEqual(ring.pop(), { type: 0, version: 65535, payload: new Uint8Array(500).fill(9) });
  assert.equal(ring.pop(), null);
  assert.equal(ring.used, 0);
});

Deno.test("Ring.pop returns a copy that later pushes do not overwrite", () => {
  const ring = Ring.create(SharedWasm.create(), 64);
  ring.push(1, bytes(1, 1, 1, 1));
  const first = ring.pop()!;
  for (let i = 0; i < 10; i++) {
    ring.push(1, bytes(2, 2, 2, 2));
    ring.pop();
  }
  assert.deepEqual(first.payload, bytes(1, 1, 1, 1));
});

Deno.test("Ring: a full ring refuses pushes until the consumer pops", () => {
  const ring = Ring.create(SharedWasm.create(), 256);
  let n = 0;
  while (ring.push(1, new Uint8Array(20).fill(n))) n++;
  assert.equal(n, 8); // 12-byte header + 20 bytes = 32 per record
  assert.equal(ring.used, 256);
  assert.equal(ring.push(1, new Uint8Array(0)), false);
  assert.deepEqual(ring.pop()?.payload, new Uint8Array(20).fill(0));
  assert.ok(ring.push(1, new Uint8Array(20).fill(99)));
  for (let i = 1; i < 8; i++) assert.deepEqual(ring.pop()?.payload, new Uint8Array(20).fill(i));
  assert.deepEqual(ring.pop()?.payload, new Uint8Array(20).fill(99));
});

Deno.test("Ring rejects payloads above maxPayload and bad types with a RangeError", () => {
  const ring = Ring.create(SharedWasm.create(), 256);
  assert.throws(() => ring.push(1, new Uint8Array(117)), /exceeds the ring's maxPayload of 116/);
  assert.ok(ring.push(1, new Uint8Array(116)));
  assert.throws(() => ring.push(65536, bytes(1)), /type must be an integer from 0 to 65535/);
  assert.throws(() => ring.push(-1, bytes(1)), RangeError);
  assert.throws(() => ring.push(1, bytes(1), 1.5), /version must be/);
  assert.equal(ring.pop()?.payload.length, 116);
  assert.equal(ring.pop(), null);
});

Deno.test("Ring.create and Ring.attach validate their arguments", () => {
  const w = SharedWasm.create();
  for (const cap of [0, 32, 100, 1000, 2 ** 31, 64.5]) {
    assert.throws(() => Ring.create(w, cap), /power of two from 64 to 2\^30/, String(cap));
  }
  const ring = Ring.create(w, 64);
  assert.throws(() => Ring.attach(w, ring.addr + 64), /No Ring at address/);
  assert.throws(() => Ring.attach(w, 3), /positive multiple of 64/);
  assert.throws(() => Ring.attach(w, 2 ** 30), /beyond the shared memory/);
  const other = Ring.attach(w, ring.addr);
  ring.push(3, bytes(4));
  assert.deepEqual(other.pop(), { type: 3, version: 0, payload: bytes(4) });
});

Deno.test("Ring detects a corrupted payload byte, skips that record and goes on", () => {
  const w = SharedWasm.create();
  const ring = Ring.create(w, 1024);
  ring.push(5, bytes(1, 2, 3, 4, 5));
  ring.push(6, bytes(9));
  new Uint8Array(w.handle.memory.buffer)[ring.addr + DATA + 12 + 2] ^= 0x40;
  const err = corruptError(() => ring.pop());
  assert.match(err.message, /type 5\) failed its CRC32 check: skipped its 24 bytes/);
  assert.equal(err.dropped, 24);
  assert.deepEqual(ring.pop(), { type: 6, version: 0, payload: bytes(9) });
  assert.equal(ring.pop(), null);
});

Deno.test("Ring drops everything buffered when a record's length is impossible", () => {
  const w = SharedWasm.create();
  const ring = Ring.create(w, 1024);
  ring.push(5, bytes(1, 2, 3));
  ring.push(6, bytes(9));
  new DataView(w.handle.memory.buffer).setUint32(ring.addr + DATA + 4, 900, true);
  const err = corruptError(() => ring.pop());
  assert.match(err.message, /impossible length 900: dropped all 32 buffered bytes/);
  assert.equal(ring.pop(), null);
  assert.equal(ring.used, 0);
  assert.ok(ring.push(7, bytes(7)));
  assert.deepEqual(ring.pop(), { type: 7, version: 0, payload: bytes(7) });
});

Deno.test("Ring: what was pushed comes back in order across wrap-arounds (property)", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(64, 128, 256, 1024),
      fc.array(fc.tuple(fc.boolean(), fc.nat({ max: 600 })), { maxLength: 400 }),
      fc.integer(),
      (cap, ops, seed) => {
        const ring = Ring.create(SharedWasm.create({ initialPages: 1 }), cap);
        const queue: number[] = []; // lengths of the records in the ring, oldest first
        let pushed = 0;
        let popped = 0;
        for (const [isPush, n] of ops) {
          if (isPush) {
            const len = n % (ring.maxPayload + 1);
            const r = record(seed, pushed, len);
            const wasEmpty = ring.used === 0;
            if (ring.push(r.type, r.payload, r.version)) {
              queue.push(len);
              pushed++;
            } else {
              assert.ok(!wasEmpty, "a push into an empty ring must succeed");
            }
          } else {
            const rec = ring.pop();
            if (queue.length === 0) {
              assert.equal(rec, null);
              continue;
            }
            assert.ok(rec, "a pushed record is readable");
            assert.equal(mismatch(seed, popped++, queue.shift()!, rec), null);
          }
          assert.ok(ring.used <= cap);
          assert.equal(ring.used === 0, queue.length === 0);
        }
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("Ring.waitAsync resolves false when idle and true at once when readable", async () => {
  const ring = Ring.create(SharedWasm.create(), 256);
  assert.equal(await ring.waitAsync(30), false);
  assert.equal(ring.wait(0), false);
  ring.push(1, bytes(1));
  assert.equal(await ring.waitAsync(60_000), true);
  assert.equal(ring.wait(60_000), true);
  assert.throws(() => ring.wait(-1), /timeoutMs must be a number ≥ 0/);
});

Deno.test("Ring.waitAsync resolves on a push made while it sleeps", async () => {
  const ring = Ring.create(SharedWasm.create(), 256);
  // A lost wake-up would leave the wait asleep for its whole minute: the test's deadline
  // (10 s) settles first and the assertion fails.
  const woken = ring.waitAsync(60_000);
  // The push runs after waitAsync announced itself and went to sleep.
  await Promise.resolve();
  queueMicrotask(() => ring.push(2, bytes(2)));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<string>((r) => timer = setTimeout(() => r("deadline"), 10_000));
  assert.equal(await Promise.race([woken, deadline]), true);
  clearTimeout(timer);
  assert.deepEqual(ring.pop()?.payload, bytes(2));
});

Deno.test("Ring.waitWritable reports room, and its absence after the timeout", () => {
  const ring = Ring.create(SharedWasm.create(), 128);
  assert.equal(ring.waitWritable(52, 0), true);
  ring.push(1, new Uint8Array(52));
  ring.push(1, new Uint8Array(40));
  assert.equal(ring.waitWritable(52, 10), false);
  ring.pop();
  assert.equal(ring.waitWritable(52, 10), true);
  assert.throws(() => ring.waitWritable(53, 10), /payload size from 0 to maxPayload \(52\)/);
});
