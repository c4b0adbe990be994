import assert from "node:assert/strict";
import {
  decayedEwma,
  DEFAULT_EWMA_DECAY_MS,
  peakEwma,
} from "../../../src/dataplane/balance/mod.ts";

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual}, expected ${expected}`);

Deno.test("peakEwma follows the table", () => {
  const e1 = Math.exp(-1);
  const table: [prev: number, sample: number, elapsed: number, decay: number, want: number][] = [
    [10, 50, 0, 10_000, 50], // a peak replaces the estimate at once
    [10, 50, 99_999, 10_000, 50],
    [10, 10, 5_000, 10_000, 10], // equal: unchanged
    [50, 10, 0, 10_000, 50], // no time passed: a lower sample has no weight
    [50, 10, -20, 10_000, 50], // time going back counts as none
    [50, 10, 10_000, 10_000, 50 * e1 + 10 * (1 - e1)], // one decay time: 1/e of the gap
    [50, 10, 20_000, 10_000, 10 + 40 * Math.exp(-2)],
    [50, 10, 1e9, 10_000, 10], // long ago: the sample alone
    [50, 0, 5_000, 5_000, 50 * e1],
    [30, 2, 100, 10_000, 30 * Math.exp(-0.01) + 2 * (1 - Math.exp(-0.01))],
  ];
  for (const [prev, sample, elapsed, decay, want] of table) {
    close(peakEwma(prev, sample, elapsed, decay), want, `peakEwma(${prev}, ${sample}, ${elapsed})`);
  }
});

Deno.test("peakEwma decays over 10 s by default", () => {
  assert.equal(DEFAULT_EWMA_DECAY_MS, 10_000);
  close(peakEwma(100, 0, 10_000), 100 * Math.exp(-1), "default decay");
});

Deno.test("decayedEwma follows the table", () => {
  const table: [value: number, elapsed: number, decay: number, want: number][] = [
    [100, 0, 10_000, 100],
    [100, -5, 10_000, 100],
    [100, 10_000, 10_000, 100 * Math.exp(-1)],
    [100, 23_026, 10_000, 100 * Math.exp(-2.3026)], // about a tenth
    [0, 1_000, 10_000, 0],
    [30, 1e12, 10_000, 0],
  ];
  for (const [value, elapsed, decay, want] of table) {
    close(decayedEwma(value, elapsed, decay), want, `decayedEwma(${value}, ${elapsed})`);
  }
});
