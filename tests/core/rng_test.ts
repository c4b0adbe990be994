import assert from "node:assert/strict";
import { mathRng, seededRng } from "../../src/core/rng.ts";

const draw = (rng: () => number, n: number) => Array.from({ length: n }, rng);

Deno.test("seededRng gives the same sequence for the same seed", () => {
  for (const seed of [0, 1, 42, -7, 2 ** 31, 0xdeadbeef]) {
    assert.deepEqual(draw(seededRng(seed), 1000), draw(seededRng(seed), 1000), `seed ${seed}`);
  }
});

Deno.test("seededRng gives different sequences for different seeds", () => {
  const seqs = [0, 1, 2, 3, 42, 43].map((s) => draw(seededRng(s), 8).join());
  assert.equal(new Set(seqs).size, seqs.length);
});

Deno.test("seededRng values lie in [0, 1) and spread evenly", () => {
  for (const seed of [0, 1, 99, 123456789]) {
    const values = draw(seededRng(seed), 20_000);
    for (const v of values) assert.ok(v >= 0 && v < 1, `seed ${seed}: ${v}`);
    const buckets = new Array(10).fill(0);
    for (const v of values) buckets[Math.floor(v * 10)]++;
    for (const [i, b] of buckets.entries()) {
      assert.ok(Math.abs(b - 2_000) < 200, `seed ${seed}: bucket ${i} holds ${b} of 20000`);
    }
  }
});

Deno.test("mathRng is the runtime's Math.random", () => {
  assert.equal(mathRng, Math.random);
});
