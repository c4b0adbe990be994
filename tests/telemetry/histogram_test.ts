import assert from "node:assert/strict";
import {
  DEFAULT_LATENCY_BUCKETS,
  type FamilySnapshot,
  MetricsRegistry,
  normalizeBuckets,
} from "../../src/telemetry/mod.ts";

function bucketsAfter(bounds: number[], values: number[]): readonly number[] {
  const h = new MetricsRegistry().histogram("h", "H.", [], bounds).labels();
  for (const v of values) h.observe(v);
  return h.snapshot().buckets;
}

Deno.test("a value exactly on a bound counts in that bound's bucket (le)", () => {
  const table: [number, number[]][] = [
    // value, cumulative counts for le=1, le=2, le=5, le=+Inf
    [-3, [1, 1, 1, 1]],
    [0, [1, 1, 1, 1]],
    [1, [1, 1, 1, 1]],
    [1.0000000000000002, [0, 1, 1, 1]],
    [2, [0, 1, 1, 1]],
    [4.999, [0, 0, 1, 1]],
    [5, [0, 0, 1, 1]],
    [5.000001, [0, 0, 0, 1]],
    [Infinity, [0, 0, 0, 1]],
  ];
  for (const [value, expected] of table) {
    assert.deepEqual(bucketsAfter([1, 2, 5], [value]), expected, `observe(${value})`);
  }
});

Deno.test("every default bound is placed in its own bucket, and just above it in the next", () => {
  const bounds = [...DEFAULT_LATENCY_BUCKETS];
  const h = new MetricsRegistry().histogram("h", "H.").labels();
  for (const b of bounds) h.observe(b);
  const cumulative = h.snapshot().buckets;
  assert.deepEqual(cumulative, [...bounds.map((_, i) => i + 1), bounds.length]);
  const above = bucketsAfter(bounds, bounds.map((b) => b * (1 + 1e-12)));
  assert.deepEqual(above, [0, ...bounds.map((_, i) => i + 1)]);
});

Deno.test("snapshot sums and counts; cumulative counts only at collection", () => {
  const r = new MetricsRegistry();
  const h = r.histogram("lat_seconds", "L.", ["c"], [0.1, 1]).labels("a");
  for (const v of [0.05, 0.1, 0.5, 3, 0.25]) h.observe(v);
  const snap = r.collect()[0] as Extract<FamilySnapshot, { type: "histogram" }>;
  assert.deepEqual(snap.bounds, [0.1, 1]);
  assert.deepEqual(snap.series[0].buckets, [2, 4, 5]);
  assert.equal(snap.series[0].count, 5);
  assert.equal(snap.series[0].sum, 0.05 + 0.1 + 0.5 + 3 + 0.25);
});

Deno.test("observe(NaN) throws RangeError and changes nothing", () => {
  const h = new MetricsRegistry().histogram("h", "H.", [], [1]).labels();
  assert.throws(() => h.observe(NaN), RangeError);
  assert.deepEqual(h.snapshot(), { buckets: [0, 0], sum: 0, count: 0 });
});

Deno.test("default buckets span 50 µs to 60 s in a 1-2-5 series", () => {
  assert.equal(DEFAULT_LATENCY_BUCKETS[0], 0.00005);
  assert.equal(DEFAULT_LATENCY_BUCKETS.at(-1), 60);
  for (let i = 1; i < DEFAULT_LATENCY_BUCKETS.length; i++) {
    const ratio = DEFAULT_LATENCY_BUCKETS[i] / DEFAULT_LATENCY_BUCKETS[i - 1];
    assert.ok(ratio >= 1.5 && ratio <= 2.5, `ratio ${ratio} at ${i}`);
  }
});

Deno.test("normalizeBuckets drops a trailing +Inf and rejects bad bounds", () => {
  assert.deepEqual([...normalizeBuckets([1, 2, Infinity])], [1, 2]);
  assert.throws(() => normalizeBuckets([]), RangeError);
  assert.throws(() => normalizeBuckets([Infinity]), RangeError);
  assert.throws(() => normalizeBuckets([1, 1]), { name: "RangeError", message: /ascending/ });
  assert.throws(() => normalizeBuckets([2, 1]), RangeError);
  assert.throws(() => normalizeBuckets([1, NaN]), { name: "RangeError", message: /finite/ });
  assert.throws(() => normalizeBuckets([-Infinity, 1]), RangeError);
});
