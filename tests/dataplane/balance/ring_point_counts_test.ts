import assert from "node:assert/strict";
import { ringPointCounts } from "../../../src/dataplane/balance/mod.ts";

const ones = (n: number) => Array(n).fill(1);

Deno.test("ringPointCounts follows the table", () => {
  const table: [weights: number[], want: number[]][] = [
    [[], []],
    [[1], [1024]],
    [[1, 1], [512, 512]],
    [[1, 1, 1], [512, 512, 512]],
    [ones(4), ones(4).fill(256)],
    [ones(7), ones(7).fill(256)],
    [ones(8), ones(8).fill(128)],
    [ones(300), ones(300).fill(128)],
    [[1, 3], [256, 768]],
    [[3, 3], [768, 768]], // scale 256: 3 × 256 ≥ 128 per host, 1536 ≥ 1024 in all
    [[1000, 1000, 1000], [500, 500, 500]], // scale 1/2
    [[1, 2, 7], [128, 256, 896]],
    [[0.5, 1.5], [256, 768]],
    [[1, 1_000_000], [1, 125_000]], // capped at 131,072 points: the lightest keeps 1
  ];
  for (const [weights, want] of table) {
    const label = weights.length > 8 ? `${weights.length} hosts` : JSON.stringify(weights);
    assert.deepEqual(ringPointCounts(weights), want, label);
  }
});

Deno.test("ringPointCounts honours custom bounds", () => {
  assert.deepEqual(ringPointCounts([1, 1], { minRingSize: 16, minHostPoints: 4 }), [8, 8]);
  assert.deepEqual(ringPointCounts(ones(3), { maxRingSize: 1024 }), [256, 256, 256]);
  // More hosts than the maximum: one point each.
  assert.deepEqual(
    ringPointCounts(ones(5), { minRingSize: 1, maxRingSize: 3, minHostPoints: 1 }),
    ones(5),
  );
});

Deno.test("ringPointCounts keeps other hosts' points when one of 8 to 15 goes", () => {
  for (let n = 9; n <= 15; n++) {
    const before = ringPointCounts([...ones(n - 1), 1]);
    assert.deepEqual(ringPointCounts(ones(n - 1)), before.slice(0, n - 1), `${n} -> ${n - 1}`);
  }
  // Weighted hosts keep theirs while the lightest stays.
  assert.deepEqual(ringPointCounts([2, 5, 3, 2]).slice(0, 3), ringPointCounts([2, 5, 3]));
});

Deno.test("ringPointCounts rejects invalid bounds", () => {
  for (const options of [{ minRingSize: 0 }, { maxRingSize: 2.5 }, { minHostPoints: NaN }]) {
    assert.throws(() => ringPointCounts([1], options), RangeError, JSON.stringify(options));
  }
  assert.throws(() => ringPointCounts([1], { minRingSize: 10, maxRingSize: 5 }), RangeError);
});
