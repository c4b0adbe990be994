import assert from "node:assert/strict";
import { backoffDelay } from "../../../src/dataplane/resilience/mod.ts";
import { seededRng } from "../../../src/core/rng.ts";

/** The largest value a uniform [0, 1) source can return from 32 random bits. */
const ALMOST_ONE = 1 - 2 ** -32;

Deno.test("backoffDelay grows exponentially up to the cap (full jitter ceiling)", () => {
  const table: [retry: number, base: number, max: number, ceiling: number][] = [
    [1, 25, 250, 25],
    [2, 25, 250, 50],
    [3, 25, 250, 100],
    [4, 25, 250, 200],
    [5, 25, 250, 250], // 400 capped
    [6, 25, 250, 250],
    [1, 100, 50, 50], // cap below base
    [31, 1, Number.MAX_SAFE_INTEGER, 2 ** 30],
    [40, 1, Number.MAX_SAFE_INTEGER, 2 ** 30], // exponent stops growing
    [1_000, 25, 250, 250],
    [Number.MAX_SAFE_INTEGER, 25, 250, 250],
    [Infinity, 25, 250, 250],
  ];
  for (const [retry, base, max, ceiling] of table) {
    const what = `retry ${retry}, base ${base}, max ${max}`;
    assert.equal(backoffDelay(retry, base, max, () => 0), 0, what);
    assert.equal(backoffDelay(retry, base, max, () => 0.5), Math.floor(ceiling / 2), what);
    assert.equal(backoffDelay(retry, base, max, () => ALMOST_ONE), ceiling - 1, what);
  }
});

Deno.test("backoffDelay is a whole number in [0, min(max, base × 2^(n-1))) for any draw", () => {
  const rng = seededRng(1);
  for (const [base, max] of [[25, 250], [10, 10_000], [1, 3], [250, 2_500]]) {
    for (const retry of [1, 2, 3, 4, 5, 8, 12, 20, 31, 64, 1_000, 1e9]) {
      const ceiling = Math.min(max, base * 2 ** (retry - 1));
      for (let i = 0; i < 500; i++) {
        const d = backoffDelay(retry, base, max, rng);
        assert.ok(Number.isInteger(d), `${d} is not a whole number of ms`);
        assert.ok(d >= 0 && d < ceiling, `retry ${retry}: ${d} outside [0, ${ceiling})`);
      }
    }
  }
});
