import assert from "node:assert/strict";
import fc from "fast-check";
import {
  CountWindow,
  type SlidingWindow,
  TimeWindow,
} from "../../../src/dataplane/resilience/_sliding_window.ts";

type Outcome = { failed: boolean; slow: boolean };

function totals(w: SlidingWindow): [calls: number, failed: number, slow: number] {
  return [w.calls, w.failed, w.slow];
}

function count(outcomes: Outcome[]): [calls: number, failed: number, slow: number] {
  return [
    outcomes.length,
    outcomes.filter((o) => o.failed).length,
    outcomes.filter((o) => o.slow).length,
  ];
}

const outcome = fc.record({ failed: fc.boolean(), slow: fc.boolean() });

Deno.test("CountWindow holds the last size outcomes, subtracting the one that falls out", () => {
  const w = new CountWindow(3);
  const seen: [calls: number, failed: number, slow: number][] = [];
  for (const [failed, slow] of [[true, true], [false, true], [true, false], [false, false]]) {
    w.record(failed, slow, 0);
    seen.push(totals(w));
  }
  assert.deepEqual(seen, [[1, 1, 1], [2, 1, 2], [3, 2, 2], [3, 1, 1]]);
  w.record(false, false, 0); // evicts the slow success
  assert.deepEqual(totals(w), [3, 1, 0]);
  w.record(false, false, 0); // evicts the failure
  assert.deepEqual(totals(w), [3, 0, 0]);
});

Deno.test("CountWindow agrees with a list of the last size outcomes, across resets", () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 8 }),
    fc.array(fc.option(outcome, { nil: undefined, freq: 10 }), { maxLength: 60 }),
    (size, ops) => {
      const w = new CountWindow(size);
      let model: Outcome[] = [];
      for (const op of ops) {
        if (op === undefined) { // a reset
          w.reset(0);
          model = [];
        } else {
          w.record(op.failed, op.slow, 0);
          model.push(op);
        }
        assert.deepEqual(totals(w), count(model.slice(-size)));
      }
    },
  ));
});

Deno.test("CountWindow refuses a size that is not a whole number of at least 1", () => {
  for (const size of [0, -1, 1.5, NaN]) {
    assert.throws(() => new CountWindow(size), RangeError, String(size));
  }
});

Deno.test("TimeWindow holds the current second and the seconds - 1 before it", () => {
  const w = new TimeWindow(3, 0);
  w.record(true, false, 0); // second 0
  w.record(false, true, 999); // still second 0
  w.record(true, true, 1_000); // second 1
  w.record(false, false, 2_999); // second 2
  assert.deepEqual(totals(w), [4, 2, 2]);
  w.advance(3_000); // second 0 slides out
  assert.deepEqual(totals(w), [2, 1, 1]);
  w.advance(3_999);
  assert.deepEqual(totals(w), [2, 1, 1]);
  w.advance(4_000); // second 1 slides out
  assert.deepEqual(totals(w), [1, 0, 0]);
  w.advance(5_000); // second 2 slides out
  assert.deepEqual(totals(w), [0, 0, 0]);
});

Deno.test("TimeWindow forgets everything across a gap longer than the window", () => {
  for (const gapMs of [3_000, 4_500, 7_000, 1_000_000]) {
    const w = new TimeWindow(3, 0);
    w.record(true, true, 0);
    w.record(true, true, 1_500);
    w.record(true, true, 2_500);
    w.record(false, false, 2_500 + gapMs); // lands in a bucket that held older outcomes
    assert.deepEqual(totals(w), [1, 0, 0], `gap ${gapMs} ms`);
    // Buckets left over from before the gap are not subtracted a second time.
    w.advance(2_500 + gapMs + 1_000);
    w.advance(2_500 + gapMs + 2_000);
    assert.deepEqual(totals(w), [1, 0, 0], `gap ${gapMs} ms, later`);
    w.advance(2_500 + gapMs + 3_000);
    assert.deepEqual(totals(w), [0, 0, 0], `gap ${gapMs} ms, all gone`);
  }
});

Deno.test("TimeWindow.reset empties it without subtracting old buckets again later", () => {
  const w = new TimeWindow(4, 0);
  w.record(true, false, 0);
  w.record(true, false, 1_000);
  w.reset(1_500);
  assert.deepEqual(totals(w), [0, 0, 0]);
  w.record(false, true, 1_600);
  w.record(false, true, 2_000);
  w.advance(4_000); // second 0 would slide out here: it is no longer counted
  w.advance(4_999);
  assert.deepEqual(totals(w), [2, 0, 2]);
  w.advance(5_000); // second 1 (after the reset) slides out
  assert.deepEqual(totals(w), [1, 0, 1]);
});

Deno.test("TimeWindow agrees with a list of timed outcomes, across gaps and resets", () => {
  const step = fc.oneof(
    fc.record({ kind: fc.constant("record" as const), dt: fc.nat(2_500), outcome }),
    fc.record({ kind: fc.constant("advance" as const), dt: fc.nat(12_000) }),
    fc.record({ kind: fc.constant("reset" as const), dt: fc.nat(2_500) }),
  );
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 6 }),
    fc.integer({ min: -60_000, max: 5_000 }),
    fc.array(step, { maxLength: 80 }),
    (seconds, start, steps) => {
      const w = new TimeWindow(seconds, start);
      let model: (Outcome & { second: number })[] = [];
      let now = start;
      for (const s of steps) {
        now += s.dt;
        const second = Math.floor(now / 1000);
        if (s.kind === "record") {
          w.record(s.outcome.failed, s.outcome.slow, now);
          model.push({ ...s.outcome, second });
        } else if (s.kind === "advance") {
          w.advance(now);
        } else {
          w.reset(now);
          model = [];
        }
        assert.deepEqual(totals(w), count(model.filter((o) => o.second > second - seconds)));
      }
    },
  ));
});

Deno.test("TimeWindow refuses a span that is not a whole number of seconds of at least 1", () => {
  for (const seconds of [0, -3, 0.5]) {
    assert.throws(() => new TimeWindow(seconds, 0), RangeError, String(seconds));
  }
});
