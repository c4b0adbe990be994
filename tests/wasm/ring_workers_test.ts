import assert from "node:assert/strict";
import fc from "fast-check";
import { Ring, SharedWasm } from "../../src/wasm/mod.ts";
import { mismatch } from "./_records.ts";
import { startWorkers } from "./_workers.ts";

const DEADLINE_MS = 10_000;

Deno.test("Ring carries records intact and in order from one Worker to another (property)", async () => {
  const [producer, consumer] = startWorkers(2);
  const w = SharedWasm.create();
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(256, 1024, 4096),
        fc.integer(),
        fc.array(fc.nat({ max: 2000 }), { minLength: 1, maxLength: 300 }),
        async (cap, seed, raw) => {
          const ring = Ring.create(w, cap);
          const sizes = raw.map((n) => n % (ring.maxPayload + 1));
          const args = { ring: ring.addr, seed, sizes, timeoutMs: DEADLINE_MS };
          const [pushed, got] = await Promise.all([
            producer.call<number>(w.handle, "produce", args),
            consumer.call<{ count: number; left: number }>(w.handle, "consume", args),
          ]);
          assert.equal(pushed, sizes.length);
          assert.deepEqual(got, { count: sizes.length, left: 0 });
        },
      ),
      { numRuns: 40 },
    );
  } finally {
    producer.close();
    consumer.close();
  }
});

Deno.test("Ring: producer and consumer blocking on a tiny ring never both sleep (wake-ups)", async () => {
  // A 64-byte ring holds one or two records, so each side waits for the other all the time:
  // a lost wake-up leaves both asleep until the deadline.
  const [producer, consumer] = startWorkers(2);
  const w = SharedWasm.create();
  try {
    for (let seed = 0; seed < 5; seed++) {
      const ring = Ring.create(w, 64);
      const sizes = Array.from({ length: 4000 }, (_, i) => (i * 13 + seed) % (ring.maxPayload + 1));
      const args = { ring: ring.addr, seed, sizes, timeoutMs: DEADLINE_MS };
      const [, got] = await Promise.all([
        producer.call<number>(w.handle, "produce", args),
        consumer.call<{ count: number }>(w.handle, "consume", args),
      ]);
      assert.equal(got.count, sizes.length);
    }
  } finally {
    producer.close();
    consumer.close();
  }
});

Deno.test("Ring: the main isolate consumes with waitAsync what a Worker produces", async () => {
  const [producer] = startWorkers(1);
  const w = SharedWasm.create();
  try {
    for (const seed of [1, 2, 3]) {
      const ring = Ring.create(w, 512);
      const sizes = Array.from(
        { length: 2000 },
        (_, i) => (i * 7919 + seed) % (ring.maxPayload + 1),
      );
      const produced = producer.call<number>(w.handle, "produce", {
        ring: ring.addr,
        seed,
        sizes,
        timeoutMs: DEADLINE_MS,
      });
      const deadline = Date.now() + DEADLINE_MS;
      for (let i = 0; i < sizes.length; i++) {
        let rec = ring.pop();
        while (rec === null) {
          assert.ok(Date.now() < deadline, `record ${i} did not arrive`);
          await ring.waitAsync(deadline - Date.now());
          rec = ring.pop();
        }
        assert.equal(mismatch(seed, i, sizes[i], rec), null);
      }
      assert.equal(await produced, sizes.length);
      assert.equal(ring.pop(), null);
    }
  } finally {
    producer.close();
  }
});
