import assert from "node:assert/strict";
import { TokenBucket } from "../../../src/dataplane/resilience/mod.ts";
import type { RateLimitConfig } from "../../../src/config/mod.ts";

/** `[time, expected take()]`: 0 = token taken, else milliseconds until the next fill. */
type Step = [at: number, expected: number];

/** Drives a bucket created at `start` through `steps` on a virtual clock. */
function run(config: RateLimitConfig, start: number, steps: Step[], what: string): void {
  let now = start;
  const bucket = new TokenBucket(config, () => now);
  steps.forEach(([at, expected], i) => {
    now = at;
    assert.equal(bucket.take(), expected, `${what}: step ${i} at ${at}`);
  });
}

const ONE_PER_SECOND: RateLimitConfig = { max_tokens: 3, tokens_per_fill: 1, fill_interval: 1000 };

Deno.test("TokenBucket starts full and allows a burst of max_tokens, then reports the wait", () => {
  run(ONE_PER_SECOND, 0, [
    [0, 0],
    [0, 0],
    [0, 0],
    [0, 1000], // empty: the next fill is a whole interval away
    [250, 750],
    [999, 1],
  ], "burst");
  run({ max_tokens: 1, tokens_per_fill: 1, fill_interval: 60_000 }, 0, [
    [0, 0],
    [1, 59_999],
  ], "one per minute");
});

Deno.test("TokenBucket adds tokens_per_fill per whole fill interval, capped at max_tokens", () => {
  const cases: [what: string, config: RateLimitConfig, start: number, steps: Step[]][] = [
    ["one fill gives one token", ONE_PER_SECOND, 0, [
      [0, 0],
      [0, 0],
      [0, 0],
      [1000, 0],
      [1000, 1000],
      [1500, 500],
    ]],
    ["several fills at once", { max_tokens: 5, tokens_per_fill: 1, fill_interval: 1000 }, 0, [
      ...drain(5, 0),
      [3200, 0], // three fills elapsed → 3 tokens
      [3200, 0],
      [3200, 0],
      [3200, 800], // the next fill is at 4000
    ]],
    ["capped at max_tokens", ONE_PER_SECOND, 0, [
      ...drain(3, 0),
      [5500, 0], // five fills elapsed, but only three fit
      [5500, 0],
      [5500, 0],
      [5500, 500],
    ]],
    ["tokens_per_fill at each fill", { max_tokens: 5, tokens_per_fill: 2, fill_interval: 100 }, 0, [
      ...drain(5, 0),
      [99, 1],
      [100, 0],
      [100, 0],
      [100, 100], // one fill brought exactly two
      [250, 0], // 200: two more
      [250, 0],
      [250, 50],
    ]],
    ["a partial bucket refills without exceeding max", ONE_PER_SECOND, 0, [
      [0, 0], // 2 left
      [1000, 0], // +1 → 3, take → 2
      [1000, 0],
      [1000, 0],
      [1000, 1000],
    ]],
    // Fill times are a grid fixed at construction (Envoy's fill timer), also while the
    // bucket is full and when the clock does not start at 0.
    ["fills stay on the grid while full", ONE_PER_SECOND, 500.25, [
      ...drain(3, 10_800.25), // fills at 1500.25 … 10500.25 found the bucket full
      [10_800.25, 700],
      [11_500.25, 0],
      [11_500.25, 1000],
    ]],
  ];
  for (const [what, config, start, steps] of cases) run(config, start, steps, what);
});

Deno.test("TokenBucket never asks to wait longer than one interval when time goes backwards", () => {
  run(ONE_PER_SECOND, 5000, [
    ...drain(3, 5000),
    [4000, 1000],
    [4999, 1],
    [5000, 0],
  ], "backwards");
});

Deno.test("TokenBucket retry-after rounds up to whole seconds, at least 1", () => {
  const table: [config: RateLimitConfig, at: number, seconds: number][] = [
    [ONE_PER_SECOND, 0, 1],
    [ONE_PER_SECOND, 999.5, 1], // 0.5 ms left still says 1 s
    [{ max_tokens: 3, tokens_per_fill: 1, fill_interval: 2500 }, 0, 3],
    [{ max_tokens: 3, tokens_per_fill: 1, fill_interval: 2500 }, 600, 2],
    [{ max_tokens: 3, tokens_per_fill: 1, fill_interval: 100 }, 0, 1],
  ];
  for (const [config, at, seconds] of table) {
    let now = 0;
    const bucket = new TokenBucket(config, () => now);
    while (bucket.take() === 0) { /* drain */ }
    now = at;
    const wait = bucket.take();
    assert.ok(wait > 0, `interval ${config.fill_interval} at ${at}`);
    assert.equal(Math.max(1, Math.ceil(wait / 1000)), seconds, `interval ${config.fill_interval}`);
  }
});

Deno.test("TokenBucket rejects a config that could not refill", () => {
  for (
    const config of [
      { max_tokens: 0, tokens_per_fill: 1, fill_interval: 1000 },
      { max_tokens: 1, tokens_per_fill: 0, fill_interval: 1000 },
      { max_tokens: 1, tokens_per_fill: 1, fill_interval: 0 },
      { max_tokens: 1, tokens_per_fill: 1, fill_interval: NaN },
    ]
  ) {
    assert.throws(() => new TokenBucket(config, () => 0), RangeError, JSON.stringify(config));
  }
});

/** `n` successful takes at time `at`. */
function drain(n: number, at: number): Step[] {
  return Array.from({ length: n }, (): Step => [at, 0]);
}
