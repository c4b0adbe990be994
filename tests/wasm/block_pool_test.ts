import assert from "node:assert/strict";
import fc from "fast-check";
import { BlockPool, SharedWasm } from "../../src/wasm/mod.ts";
import { runTogether, startWorkers } from "./_workers.ts";

Deno.test("BlockPool hands out distinct aligned blocks, then -1, and counts exhaustion", () => {
  const pool = BlockPool.create(SharedWasm.create(), 4096, 4);
  assert.deepEqual([pool.blockSize, pool.blocks, pool.available], [4096, 4, 4]);
  const blocks = [pool.alloc(), pool.alloc(), pool.alloc(), pool.alloc()];
  assert.equal(new Set(blocks).size, 4);
  for (const b of blocks) assert.equal(b % 64, 0);
  assert.deepEqual([...blocks].sort((a, b) => a - b).map((b, _i, a) => b - a[0]), [
    0,
    4096,
    8192,
    12288,
  ]);
  assert.equal(pool.available, 0);
  assert.equal(pool.alloc(), -1);
  assert.equal(pool.alloc(), -1);
  assert.equal(pool.exhaustions, 2);
  pool.free(blocks[2]);
  assert.equal(pool.available, 1);
  assert.equal(pool.alloc(), blocks[2]);
});

Deno.test("BlockPool.free rejects double frees and addresses that are not its blocks", () => {
  const w = SharedWasm.create();
  const pool = BlockPool.create(w, 64, 8);
  const other = BlockPool.create(w, 64, 8);
  const b = pool.alloc();
  const c = pool.alloc();
  pool.free(b);
  assert.throws(() => pool.free(b), /Block \d+ is already free/);
  assert.throws(() => pool.free(pool.alloc() + 8), /is not a block of this pool/);
  for (const bad of [other.alloc(), c + 64 * 8 * 2, 0, -1, c + 0.5, NaN, 2 ** 33]) {
    assert.throws(() => pool.free(bad), /is not a block of this pool/, String(bad));
  }
  assert.throws(() => pool.view(c + 1), /is not a block of this pool/);
  pool.free(c);
  assert.equal(pool.available, 7);
});

Deno.test("BlockPool.view is the block's bytes, shared with other attachments", () => {
  const w = SharedWasm.create();
  const pool = BlockPool.create(w, 128, 2);
  const b = pool.alloc();
  pool.view(b).fill(7);
  const again = BlockPool.attach(w, pool.addr);
  assert.equal(again.view(b).length, 128);
  assert.ok(again.view(b).every((x) => x === 7));
  assert.throws(() => BlockPool.attach(w, pool.addr + 64), /No BlockPool at address/);
});

Deno.test("BlockPool.create validates sizes", () => {
  const w = SharedWasm.create();
  for (const [size, n] of [[0, 1], [12, 1], [64, 0], [64, 2 ** 25], [2 ** 27, 1], [64.5, 2]]) {
    assert.throws(() => BlockPool.create(w, size, n), /multiple of 8 from 8 to 2\^26/);
  }
});

Deno.test("BlockPool matches a model set under any alloc/free sequence (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 16 }),
      fc.array(fc.nat({ max: 40 }), { maxLength: 200 }),
      (n, ops) => {
        const pool = BlockPool.create(SharedWasm.create({ initialPages: 1 }), 64, n);
        const held: number[] = [];
        let exhaustions = 0;
        for (const op of ops) {
          if (op % 2 === 0 || held.length === 0) {
            const b = pool.alloc();
            if (held.length === n) {
              assert.equal(b, -1);
              exhaustions++;
            } else {
              assert.ok(b > 0 && !held.includes(b), `fresh block, got ${b}`);
              held.push(b);
            }
          } else {
            pool.free(held.splice(op % held.length, 1)[0]);
          }
          assert.equal(pool.available, n - held.length);
        }
        assert.equal(pool.exhaustions, exhaustions);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("BlockPool's free-list head never repeats a value, so a stale CAS cannot win (ABA)", () => {
  // A thread that read the head, then stalled while others popped and pushed the same block
  // back, must fail its CAS: that holds when the 64-bit head (tag, index) never comes back.
  const w = SharedWasm.create();
  const pool = BlockPool.create(w, 64, 3);
  const head = () => new BigUint64Array(w.handle.memory.buffer, pool.addr, 1)[0];
  const seen = new Set([head()]);
  const step = (what: string) => {
    assert.ok(!seen.has(head()), `head ${head()} came back after ${what}`);
    seen.add(head());
  };
  for (let i = 0; i < 1000; i++) {
    const a = pool.alloc();
    step("alloc");
    const b = pool.alloc();
    step("alloc");
    pool.free(b); // the same block returns to the top: its index repeats, the tag must not
    step("free");
    pool.free(a);
    step("free");
  }
  assert.equal(pool.available, 3);
});

const ROUNDS = 20_000;

Deno.test("BlockPool never hands one block to two Workers at once", async () => {
  const workers = startWorkers(3);
  const w = SharedWasm.create();
  try {
    const pool = BlockPool.create(w, 64, 12);
    const owners = w.alloc(4 * pool.blocks, 4);
    const data = pool.alloc();
    pool.free(data); // the last freed block is the lowest: the first alloc returned block 0
    // Three Workers holding up to 7 of 12 blocks each: any two running at once exhaust it.
    const results = await runTogether<{ allocs: number; exhausted: number }>(
      workers,
      w,
      "pool",
      (i) => ({ pool: pool.addr, owners, data, id: i + 1, rounds: ROUNDS, hold: 7 }),
    );
    const allocs = results.reduce((s, r) => s + r.allocs, 0);
    const exhausted = results.reduce((s, r) => s + r.exhausted, 0);
    assert.equal(allocs + exhausted, 3 * ROUNDS * 7);
    assert.equal(pool.exhaustions, exhausted);
    assert.equal(pool.available, 12);
    const all = Array.from({ length: 12 }, () => pool.alloc());
    assert.equal(new Set(all).size, 12);
    assert.equal(pool.alloc(), -1);
  } finally {
    for (const worker of workers) worker.close();
  }
});
