import assert from "node:assert/strict";
import {
  ejectionTimeMs,
  mayEject,
  nextEjectionMultiplier,
  successRateThreshold,
} from "../../../src/dataplane/resilience/mod.ts";

Deno.test("ejectionTimeMs: base times the multiplier, capped at max (or base when larger)", () => {
  const cases: [base: number, max: number, multiplier: number, want: number][] = [
    [30_000, 300_000, 1, 30_000],
    [30_000, 300_000, 2, 60_000],
    [30_000, 300_000, 10, 300_000],
    [30_000, 300_000, 11, 300_000],
    [200, 1_000, 3, 600],
    [200, 1_000, 7, 1_000],
    // A max below the base: the base is the cap, as in Envoy.
    [30_000, 10_000, 1, 30_000],
    [30_000, 10_000, 5, 30_000],
    [30_000, 300_000, 0, 0],
  ];
  for (const [base, max, m, want] of cases) {
    assert.equal(ejectionTimeMs(base, max, m), want, `base ${base}, max ${max}, ×${m}`);
  }
});

Deno.test("nextEjectionMultiplier: grows by one until the time it gives passes the cap", () => {
  const cases: [base: number, max: number, multiplier: number, want: number][] = [
    [30_000, 300_000, 0, 1],
    [30_000, 300_000, 1, 2],
    [30_000, 300_000, 9, 10],
    // Envoy grows while multiplier × base < max + base: once to 11 here, then no more.
    [30_000, 300_000, 10, 11],
    [30_000, 300_000, 11, 11],
    [30_000, 10_000, 0, 1],
    [30_000, 10_000, 1, 2], // 30 s < 10 s + 30 s
    [30_000, 10_000, 2, 2],
  ];
  for (const [base, max, m, want] of cases) {
    assert.equal(nextEjectionMultiplier(base, max, m), want, `base ${base}, max ${max}, ×${m}`);
  }
});

Deno.test("mayEject: within max_ejection_percent, and always one when above 0", () => {
  const cases: [ejected: number, total: number, percent: number, want: boolean][] = [
    [0, 3, 10, true], // one may always be ejected
    [1, 3, 10, false],
    [0, 1, 10, true],
    [1, 1, 100, false], // nothing left to eject
    [0, 3, 0, false], // 0 % turns ejection off
    [1, 10, 20, true], // 2 of 10 = 20 %
    [2, 10, 20, false], // 3 of 10 > 20 %
    [2, 3, 100, true],
    [1, 3, 66, false], // 2 of 3 = 66.7 % > 66 %
    [1, 3, 67, true],
  ];
  for (const [ejected, total, percent, want] of cases) {
    assert.equal(mayEject(ejected, total, percent), want, `${ejected}/${total} at ${percent} %`);
  }
});

Deno.test("successRateThreshold: mean minus stdev × factor / 1000 (population stdev)", () => {
  const cases: [rates: number[], factor: number, want: number][] = [
    [[100, 100, 100, 100, 100], 1900, 100],
    // mean 90, population stdev 20 (values 100 ×4, 50): 90 − 1.9 × 20 = 52.
    [[100, 100, 100, 100, 50], 1900, 52],
    [[100, 100, 100, 100, 50], 1000, 70],
    [[100, 100, 100, 100, 50], 0, 90],
    [[80], 1900, 80],
  ];
  for (const [rates, factor, want] of cases) {
    assert.ok(
      Math.abs(successRateThreshold(rates, factor) - want) < 1e-9,
      `${rates} × ${factor}: got ${successRateThreshold(rates, factor)}, want ${want}`,
    );
  }
  assert.throws(() => successRateThreshold([], 1900), RangeError);
});
