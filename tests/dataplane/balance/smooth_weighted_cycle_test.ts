import assert from "node:assert/strict";
import fc from "fast-check";
import {
  MAX_CYCLE_LENGTH,
  smoothWeightedCycle,
  smoothWeightedStep,
} from "../../../src/dataplane/balance/mod.ts";
import { gcd } from "../../../src/dataplane/balance/smooth_weighted_cycle.ts";

Deno.test("gcd follows the table", () => {
  const table: [number, number, number][] = [[0, 5, 5], [5, 0, 5], [12, 18, 6], [7, 13, 1], [
    1_000_000,
    250_000,
    250_000,
  ]];
  for (const [a, b, want] of table) assert.equal(gcd(a, b), want, `gcd(${a}, ${b})`);
});

Deno.test("smoothWeightedCycle follows the table (nginx's sequences)", () => {
  const table: [weights: number[], want: number[] | undefined][] = [
    [[], []],
    [[4], [0]],
    [[5, 1, 1], [0, 0, 1, 0, 2, 0, 0]],
    [[1, 1, 1], [0, 1, 2]],
    [[7, 7], [0, 1]],
    [[2, 4], [1, 0, 1]],
    [[3, 2], [0, 1, 0, 1, 0]],
    [[4, 2, 1], [0, 1, 0, 2, 0, 1, 0]],
    [[1.5, 1], undefined], // not integers: stepped per pick instead
    [[1, MAX_CYCLE_LENGTH], undefined], // too long
  ];
  for (const [weights, want] of table) {
    const got = smoothWeightedCycle(weights);
    assert.deepEqual(got && [...got], want, JSON.stringify(weights));
  }
});

Deno.test("smoothWeightedCycle gives each index its reduced weight, spread out", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 8 }),
      (weights) => {
        const cycle = smoothWeightedCycle(weights)!;
        const g = weights.reduce(gcd);
        const total = cycle.length;
        assert.equal(total, weights.reduce((a, b) => a + b) / g);
        weights.forEach((w, i) => {
          const at = [...cycle.keys()].filter((t) => cycle[t] === i);
          assert.equal(at.length, w / g);
          // Smoothness: in any window of the cycle an index appears within one of its
          // fair share, so no host gets a burst.
          for (let len = 1; len <= total; len++) {
            for (let start = 0; start < total; start++) {
              let count = 0;
              for (let k = 0; k < len; k++) if (cycle[(start + k) % total] === i) count++;
              assert.ok(Math.abs(count - (len * w) / g / total) < 2);
            }
          }
        });
      },
    ),
    { seed: 11, numRuns: 60 },
  );
});

Deno.test("smoothWeightedStep skips indexes it is told to, keeping the sum at 0", () => {
  const weights = [5, 1, 1];
  const current = new Float64Array(3);
  const picks = Array.from(
    { length: 6 },
    () => smoothWeightedStep(weights, current, 7, (i) => i === 0),
  );
  assert.ok(picks.every((p) => p !== 0));
  assert.equal(current.reduce((a, b) => a + b), 0);
  // Skipping everything is ignored.
  assert.equal(smoothWeightedStep(weights, current, 7, () => true) >= 0, true);
  assert.equal(smoothWeightedStep([], new Float64Array(0), 0), -1);
});
