import assert from "node:assert/strict";
import type { CircuitBreakerConfig } from "../../../src/config/mod.ts";
import { type BreakerState, CircuitBreaker } from "../../../src/dataplane/resilience/mod.ts";

const SLOW_MS = 1_000;
const WAIT_MS = 30_000;

/** A configuration that opens on half of 10 calls failing, slow calls alone never opening it. */
function config(over: Partial<CircuitBreakerConfig> = {}): CircuitBreakerConfig {
  return {
    sliding_window_type: "count_based",
    sliding_window_size: 10,
    minimum_number_of_calls: 10,
    failure_rate_threshold: 50,
    slow_call_rate_threshold: 100,
    slow_call_duration_threshold: SLOW_MS,
    wait_duration_in_open_state: WAIT_MS,
    permitted_number_of_calls_in_half_open_state: 3,
    max_wait_duration_in_half_open_state: 0,
    ...over,
  };
}

type Transition = [from: BreakerState, to: BreakerState, why: string];

/** A breaker on a virtual clock (`h.t`, in ms), recording its transitions. */
function harness(over: Partial<CircuitBreakerConfig> = {}, start = 0) {
  const h = {
    t: start,
    transitions: [] as Transition[],
    breaker: undefined as unknown as CircuitBreaker,
    /**
     * Runs one acquired call per letter: `s` success, `f` failure, `S` slow success, `F` slow
     * failure (slow: exactly the slow-call duration threshold).
     */
    calls(pattern: string): void {
      for (const c of pattern) {
        assert.ok(h.breaker.tryAcquire(), `call ${c} of ${pattern} was refused`);
        h.breaker.onResult(c === "s" || c === "S", c === "S" || c === "F" ? SLOW_MS : SLOW_MS - 1);
      }
    },
    /** Opens the breaker with 10 failures and lets the wait pass, leaving it half-open. */
    halfOpen(): void {
      h.calls("f".repeat(10));
      assert.equal(h.breaker.state, "open");
      h.t += WAIT_MS;
      assert.equal(h.breaker.state, "half_open");
    },
  };
  h.breaker = new CircuitBreaker(config(over), {
    now: () => h.t,
    onTransition: (from, to, why) => h.transitions.push([from, to, why]),
  });
  return h;
}

Deno.test("a closed breaker stays closed until the window holds minimum_number_of_calls", () => {
  const table: [size: number, minimum: number, failures: number, state: BreakerState][] = [
    [20, 10, 9, "closed"],
    [20, 10, 10, "open"],
    [20, 1, 1, "open"],
    // As resilience4j: a count window's minimum is at most its size.
    [5, 100, 4, "closed"],
    [5, 100, 5, "open"],
  ];
  for (const [size, minimum, failures, state] of table) {
    const h = harness({ sliding_window_size: size, minimum_number_of_calls: minimum });
    h.calls("f".repeat(failures));
    assert.equal(h.breaker.state, state, `window ${size}, minimum ${minimum}, ${failures} failed`);
  }
});

Deno.test("the failure rate opens the breaker at its threshold, not below it", () => {
  const table: [threshold: number, size: number, failures: number, state: BreakerState][] = [
    [50, 10, 5, "open"], // exactly at
    [50, 10, 4, "closed"],
    [100, 10, 10, "open"],
    [100, 10, 9, "closed"],
    [10, 10, 1, "open"],
    [30, 10, 2, "closed"],
    // 1.1 × 3000 is a little above 3300 in binary floating point: 33 failures must still do.
    [1.1, 3000, 33, "open"],
    [1.1, 3000, 32, "closed"],
  ];
  for (const [threshold, size, failures, state] of table) {
    const h = harness({
      failure_rate_threshold: threshold,
      sliding_window_size: size,
      minimum_number_of_calls: size,
    });
    // Failures first, so that the window is full only with the last success.
    h.calls("f".repeat(failures) + "s".repeat(size - failures));
    assert.equal(h.breaker.state, state, `${failures} of ${size} failed, threshold ${threshold} %`);
  }
});

Deno.test("the failure rate is taken over the last sliding_window_size calls only", () => {
  const h = harness({ sliding_window_size: 4, minimum_number_of_calls: 4 });
  h.calls("fsss"); // the window: f s s s
  assert.equal(h.breaker.state, "closed");
  h.calls("sf"); // the window: s s s f
  assert.equal(h.breaker.state, "closed");
  h.calls("f"); // the window: s s f f (3 of all 7 calls failed: below 50 %)
  assert.equal(h.breaker.state, "open");
});

Deno.test("slow calls open the breaker at their rate threshold, successful or not", () => {
  const table: [pattern: string, state: BreakerState][] = [
    ["SSSSSsssss", "open"], // slow successes at exactly the duration threshold
    ["SSSSssssss", "closed"],
    ["FFFFsssssS", "open"], // slow failures count as slow too (4 failures stay below 50 %)
  ];
  for (const [pattern, state] of table) {
    const h = harness({ slow_call_rate_threshold: 50 });
    h.calls(pattern);
    assert.equal(h.breaker.state, state, pattern);
  }
  const h = harness({ slow_call_rate_threshold: 50 });
  h.calls("SSSSSsssss");
  assert.deepEqual(h.transitions, [[
    "closed",
    "open",
    "slow-call rate 50.0 % ≥ 50 % over 10 calls",
  ]]);
});

Deno.test("either rate opens the breaker, and the reason names every rate over its threshold", () => {
  const table: [pattern: string, why: string][] = [
    ["fffffsssss", "failure rate 50.0 % ≥ 50 % over 10 calls"],
    ["ffffSSSSss", "slow-call rate 40.0 % ≥ 40 % over 10 calls"],
    [
      "FFFFFsssss",
      "failure rate 50.0 % ≥ 50 % and slow-call rate 50.0 % ≥ 40 % over 10 calls",
    ],
    ["ffffsssSSS", ""], // 40 % failed, 30 % slow: neither
  ];
  for (const [pattern, why] of table) {
    const h = harness({ slow_call_rate_threshold: 40 });
    h.calls(pattern);
    assert.deepEqual(h.transitions, why === "" ? [] : [["closed", "open", why]], pattern);
  }
});

Deno.test("an open breaker refuses every call until the wait is over, then goes half-open", () => {
  const h = harness();
  h.t = 5_000;
  h.calls("f".repeat(10));
  h.t = 5_000 + WAIT_MS - 1;
  for (let i = 0; i < 4; i++) assert.equal(h.breaker.tryAcquire(), false);
  assert.equal(h.breaker.state, "open");
  assert.equal(h.breaker.snapshot().not_permitted, 4);
  h.t = 5_000 + WAIT_MS;
  assert.equal(h.breaker.state, "half_open");
  assert.deepEqual(h.transitions.slice(1), [[
    "open",
    "half_open",
    "wait of 30s in open state over",
  ]]);
});

Deno.test("a half-open breaker permits exactly the trial calls, then refuses", () => {
  for (const trials of [1, 3, 7]) {
    const h = harness({ permitted_number_of_calls_in_half_open_state: trials });
    h.halfOpen();
    for (let i = 0; i < trials; i++) assert.ok(h.breaker.tryAcquire(), `trial ${i + 1}`);
    assert.equal(h.breaker.tryAcquire(), false, `trial ${trials + 1}`);
    assert.equal(h.breaker.tryAcquire(), false, `trial ${trials + 2}`);
    assert.equal(h.breaker.snapshot().not_permitted, 2);
    assert.equal(h.breaker.state, "half_open");
  }
});

Deno.test("successful trial calls close the breaker with an empty window", () => {
  const h = harness({ sliding_window_size: 4, minimum_number_of_calls: 4 });
  h.calls("ffff");
  h.t += WAIT_MS;
  h.calls("ss");
  assert.equal(h.breaker.state, "half_open", "it waits for all 3 trial outcomes");
  h.calls("s");
  assert.equal(h.breaker.state, "closed");
  assert.deepEqual(h.transitions.at(-1), [
    "half_open",
    "closed",
    "0 of 3 trial calls failed and 0 were slow, below 50 % and 100 %",
  ]);
  assert.equal(h.breaker.snapshot().calls, 0);
  // Had the four failures stayed in the window, one more failure would open it again.
  h.calls("fff");
  assert.equal(h.breaker.state, "closed");
  h.calls("f");
  assert.equal(h.breaker.state, "open");
});

Deno.test("the trial calls' rates decide between closed and open again", () => {
  const table: [trials: number, pattern: string, to: BreakerState, why: string][] = [
    [4, "ffss", "open", "2 of 4 trial calls failed"], // exactly at 50 %
    [4, "sfss", "closed", "1 of 4 trial calls failed and 0 were slow, below 50 % and 60 %"],
    [5, "SSSss", "open", "3 of 5 trial calls were slow"],
    [5, "SSsss", "closed", "0 of 5 trial calls failed and 2 were slow, below 50 % and 60 %"],
    [5, "FFFss", "open", "3 of 5 trial calls failed and 3 were slow"],
    [1, "f", "open", "1 trial call failed"],
  ];
  for (const [trials, pattern, to, why] of table) {
    const h = harness({
      permitted_number_of_calls_in_half_open_state: trials,
      slow_call_rate_threshold: 60,
    });
    h.halfOpen();
    h.calls(pattern.slice(0, -1));
    assert.equal(h.breaker.state, "half_open", `${pattern}: waits for the last outcome`);
    h.calls(pattern.slice(-1));
    assert.deepEqual(h.transitions.at(-1), ["half_open", to, why], pattern);
    assert.equal(h.breaker.state, to, pattern);
  }
});

Deno.test("opened again from half-open, the breaker waits the whole wait again", () => {
  const h = harness();
  h.halfOpen();
  const reopened = h.t + 1_234;
  h.t = reopened;
  h.calls("fff");
  assert.equal(h.breaker.state, "open");
  h.t = reopened + WAIT_MS - 1;
  assert.equal(h.breaker.tryAcquire(), false);
  h.t = reopened + WAIT_MS;
  assert.equal(h.breaker.tryAcquire(), true);
});

Deno.test("max_wait_duration_in_half_open_state opens a half-open breaker that waits too long", () => {
  const h = harness({ max_wait_duration_in_half_open_state: 10_000 });
  h.halfOpen();
  const since = h.t;
  assert.ok(h.breaker.tryAcquire()); // a trial call that never ends
  h.calls("s");
  h.t = since + 9_999;
  assert.equal(h.breaker.state, "half_open");
  h.t = since + 10_000;
  assert.equal(h.breaker.state, "open");
  assert.deepEqual(h.transitions.at(-1), [
    "half_open",
    "open",
    "half-open for 10s with 1 of 3 trial outcomes in",
  ]);
  // The wait runs from the moment the limit ran out.
  h.t = since + 10_000 + WAIT_MS - 1;
  assert.equal(h.breaker.tryAcquire(), false);
  h.t = since + 10_000 + WAIT_MS;
  assert.ok(h.breaker.tryAcquire());
  assert.equal(h.breaker.state, "half_open");
});

Deno.test("a half-open breaker noticed long after its limit opens then half-opens again", () => {
  const h = harness({ max_wait_duration_in_half_open_state: 10_000 });
  h.halfOpen();
  h.t += 10_000 + WAIT_MS + 60_000; // no call for a long time
  assert.ok(h.breaker.tryAcquire(), "the open wait counts from when the limit ran out");
  assert.deepEqual(h.transitions.slice(-2).map(([from, to]) => [from, to]), [
    ["half_open", "open"],
    ["open", "half_open"],
  ]);
});

Deno.test("the half-open limit runs from when the breaker went half-open", () => {
  const h = harness({ max_wait_duration_in_half_open_state: 10_000 });
  h.calls("f".repeat(10));
  h.t += WAIT_MS + 8_000; // the first call after the wait finds the breaker still open
  assert.ok(h.breaker.tryAcquire());
  h.t += 9_999;
  assert.equal(h.breaker.state, "half_open");
  h.t += 1;
  assert.equal(h.breaker.state, "open");
});

Deno.test("max_wait_duration_in_half_open_state 0 waits for every trial outcome", () => {
  const h = harness();
  h.halfOpen();
  assert.ok(h.breaker.tryAcquire());
  h.t += 1_000_000_000;
  assert.equal(h.breaker.state, "half_open");
  assert.equal(h.breaker.tryAcquire(), true);
  assert.equal(h.breaker.tryAcquire(), true);
  assert.equal(h.breaker.tryAcquire(), false);
});

Deno.test("release() frees a half-open trial slot, never more than the trial calls", () => {
  const h = harness({ permitted_number_of_calls_in_half_open_state: 2 });
  h.halfOpen();
  assert.ok(h.breaker.tryAcquire());
  assert.ok(h.breaker.tryAcquire());
  assert.equal(h.breaker.tryAcquire(), false);
  h.breaker.release();
  assert.ok(h.breaker.tryAcquire(), "the released slot is free again");
  assert.equal(h.breaker.tryAcquire(), false);
  // Released calls record no outcome: the two outcomes still decide.
  h.breaker.release();
  h.breaker.release();
  h.breaker.release(); // one too many: there are only 2 slots
  assert.ok(h.breaker.tryAcquire());
  assert.ok(h.breaker.tryAcquire());
  assert.equal(h.breaker.tryAcquire(), false);
  h.breaker.onResult(true, 1);
  assert.equal(h.breaker.state, "half_open");
  h.breaker.onResult(true, 1);
  assert.equal(h.breaker.state, "closed");
});

Deno.test("release() in closed and open changes nothing", () => {
  const h = harness({ sliding_window_size: 2, minimum_number_of_calls: 2 });
  h.breaker.release();
  h.calls("f");
  h.breaker.release();
  assert.equal(h.breaker.snapshot().calls, 1);
  h.calls("f");
  assert.equal(h.breaker.state, "open");
  h.breaker.release();
  assert.equal(h.breaker.tryAcquire(), false);
});

Deno.test("a time-based window forgets calls older than its seconds", () => {
  // Window of 10 s: the current second and the 9 before it. Four failures at 0.5 s, then one
  // more at `later`: five failures in the window open the breaker, one alone does not.
  const table: [later: number, state: BreakerState, calls: number][] = [
    [500, "open", 5],
    [9_999, "open", 5],
    [10_000, "closed", 1], // second 0 has slid out
    [10_500, "closed", 1],
    [25_000, "closed", 1], // a gap of more than the window
    [1_000_000, "closed", 1],
  ];
  for (const [later, state, calls] of table) {
    const h = harness({
      sliding_window_type: "time_based",
      sliding_window_size: 10,
      minimum_number_of_calls: 5,
    });
    h.t = 500;
    h.calls("ffff");
    h.t = later;
    h.calls("f");
    assert.equal(h.breaker.state, state, `second failure at ${later} ms`);
    assert.equal(h.breaker.snapshot().calls, calls, `calls at ${later} ms`);
  }
});

Deno.test("a time-based window keeps counting across a gap longer than the window", () => {
  const h = harness({
    sliding_window_type: "time_based",
    sliding_window_size: 3,
    minimum_number_of_calls: 4,
  });
  h.calls("sss");
  h.t = 1_000;
  h.calls("sss");
  h.t = 50_000; // every bucket has expired, some will be reused below
  assert.deepEqual(h.breaker.snapshot().calls, 0);
  h.calls("ff");
  h.t = 51_000;
  h.calls("ss");
  const s = h.breaker.snapshot();
  assert.deepEqual([s.calls, s.failed, s.failure_rate], [4, 2, 50]);
  assert.equal(h.breaker.state, "open");
});

Deno.test("the breaker's clock may start anywhere, negative included", () => {
  for (const start of [-123_456, -1_000, -1, 0, 987_654_321]) {
    const h = harness({
      sliding_window_type: "time_based",
      sliding_window_size: 3,
      minimum_number_of_calls: 2,
      failure_rate_threshold: 60,
    }, start);
    h.calls("f");
    h.t += 1_000;
    h.calls("s");
    h.t += 2_000; // the failure's second slides out, the success's stays
    const s = h.breaker.snapshot();
    assert.deepEqual([s.calls, s.failed], [1, 0], `start ${start}`);
    h.calls("f"); // 1 of 2 failed; with the old failure still counted, 2 of 3 would open it
    assert.equal(h.breaker.state, "closed", `start ${start}`);
  }
});

Deno.test("onTransition hears every transition of a full cycle with its reason", () => {
  const h = harness({ slow_call_rate_threshold: 80 });
  h.calls("ffffsssfff");
  h.t += WAIT_MS;
  h.calls("fsf");
  h.t += WAIT_MS;
  h.calls("sSs");
  assert.deepEqual(h.transitions, [
    ["closed", "open", "failure rate 70.0 % ≥ 50 % over 10 calls"],
    ["open", "half_open", "wait of 30s in open state over"],
    ["half_open", "open", "2 of 3 trial calls failed"],
    ["open", "half_open", "wait of 30s in open state over"],
    ["half_open", "closed", "0 of 3 trial calls failed and 1 was slow, below 50 % and 80 %"],
  ]);
});

Deno.test("snapshot() reports the state, the window's counts and rates", () => {
  const h = harness({ permitted_number_of_calls_in_half_open_state: 4 });
  const fields = () => {
    const s = h.breaker.snapshot();
    return [s.state, s.failure_rate, s.slow_call_rate, s.calls, s.failed, s.slow, s.not_permitted];
  };
  assert.deepEqual(fields(), ["closed", -1, -1, 0, 0, 0, 0]);
  h.calls("fFS");
  assert.deepEqual(fields(), ["closed", -1, -1, 3, 2, 2, 0], "below the minimum: no rates");
  h.calls("ssssss");
  assert.deepEqual(fields(), ["closed", -1, -1, 9, 2, 2, 0]);
  h.calls("f");
  assert.deepEqual(fields(), ["closed", 30, 20, 10, 3, 2, 0]);
  h.calls("fff"); // the window: s s s s s s f f f f
  assert.deepEqual(fields(), ["closed", 40, 0, 10, 4, 0, 0], "the oldest calls slid out");
  h.calls("f"); // the window: s s s s s f f f f f
  assert.deepEqual(fields(), ["open", 50, 0, 10, 5, 0, 0], "open shows what opened it");
  h.breaker.tryAcquire();
  h.breaker.tryAcquire();
  assert.deepEqual(fields(), ["open", 50, 0, 10, 5, 0, 2]);
  h.t += WAIT_MS;
  assert.deepEqual(fields(), ["half_open", -1, -1, 0, 0, 0, 0], "the trial calls' window");
  h.calls("fS");
  assert.deepEqual(fields(), ["half_open", -1, -1, 2, 1, 1, 0]);
  h.calls("ss");
  assert.deepEqual(fields(), ["closed", -1, -1, 0, 0, 0, 0]);
});

Deno.test("an outcome arriving while open is shown but decides nothing", () => {
  const h = harness({ sliding_window_size: 4, minimum_number_of_calls: 4 });
  h.calls("sff");
  assert.ok(h.breaker.tryAcquire()); // still in flight when the circuit opens
  h.calls("f");
  assert.equal(h.breaker.state, "open");
  h.breaker.onResult(true, SLOW_MS); // the window: f f f S
  const s = h.breaker.snapshot();
  assert.deepEqual([s.state, s.calls, s.failed, s.slow], ["open", 4, 3, 1]);
  h.t += WAIT_MS - 1;
  assert.equal(h.breaker.state, "open");
});
