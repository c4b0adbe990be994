import assert from "node:assert/strict";
import fc from "fast-check";
import { ConfigError, formatDuration, parseConfig, parseDuration } from "../../src/config/mod.ts";
import { DURATION_PATTERN, MAX_DURATION_MS, maxDurationLike } from "../../src/config/duration.ts";

Deno.test("parseDuration reads whole numbers with a unit", () => {
  const table: [string, number][] = [
    ["0ms", 0],
    ["0s", 0],
    ["250ms", 250],
    ["2s", 2_000],
    ["1m", 60_000],
    ["1h", 3_600_000],
    ["90s", 90_000],
    [" 5s ", 5_000],
    ["999999999ms", 999_999_999],
    ["2147483647ms", 2_147_483_647],
    ["0000000000001s", 1_000],
    ["9999999h", 35_999_996_400_000],
  ];
  for (const [text, ms] of table) assert.equal(parseDuration(text), ms, text);
});

Deno.test("parseDuration refuses anything else", () => {
  for (
    const text of [
      "",
      "5",
      "s",
      "1.5s",
      "-1s",
      "+1s",
      "1 s",
      "1S",
      "1sec",
      "1d",
      "1e3ms",
      "1h30m",
      "0x10s",
    ]
  ) {
    assert.equal(parseDuration(text), undefined, JSON.stringify(text));
  }
});

Deno.test("formatDuration picks the largest exact unit", () => {
  const table: [number, string][] = [
    [0, "0ms"],
    [1, "1ms"],
    [1_500, "1500ms"],
    [2_000, "2s"],
    [90_000, "90s"],
    [120_000, "2m"],
    [7_200_000, "2h"],
  ];
  for (const [ms, text] of table) assert.equal(formatDuration(ms), text, String(ms));
});

Deno.test("formatDuration and parseDuration round-trip", () => {
  fc.assert(fc.property(fc.nat(999_999_999), (ms) => {
    assert.equal(parseDuration(formatDuration(ms)), ms);
  }));
});

Deno.test("DURATION_PATTERN (used by the JSON Schema) accepts what parseDuration accepts", () => {
  const candidate = fc.oneof(
    fc.string(),
    fc.tuple(
      fc.stringMatching(/^-?\d{0,11}(\.\d)?$/),
      fc.constantFrom("ms", "s", "m", "h", "d", ""),
    )
      .map(([n, u]) => n + u),
  );
  fc.assert(fc.property(candidate, (text) => {
    assert.equal(
      DURATION_PATTERN.test(text),
      parseDuration(text) !== undefined && text === text.trim(),
    );
  }));
});

Deno.test("maxDurationLike writes the maximum in the unit of the text, rounded down", () => {
  const table: [string, string | undefined][] = [
    ["1ms", "2147483647ms"],
    ["99999999999ms", "2147483647ms"],
    ["5s", "2147483s"],
    ["5m", "35791m"],
    ["1000h", "596h"],
    ["soon", undefined],
  ];
  for (const [text, max] of table) assert.equal(maxDurationLike(text), max, text);
  for (const [, max] of table) {
    if (max !== undefined) assert.ok(parseDuration(max)! <= MAX_DURATION_MS, max);
  }
});

/** The problems of a config whose route timeout is `timeout`; none when it is accepted. */
function timeoutProblems(timeout: string): { message: string; fix?: string }[] {
  const text = `listeners:
  - name: web
    address: 127.0.0.1:18000
    routes: [{ cluster: app, timeout: ${timeout} }]
clusters: [{ name: app }]
`;
  try {
    parseConfig(text, "t.yaml");
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.issues;
  }
}

Deno.test("a duration up to the maximum is accepted, in any unit", () => {
  for (const timeout of ["2147483647ms", "2147483s", "35791m", "596h", "00000000596h"]) {
    assert.deepEqual(timeoutProblems(timeout), [], timeout);
  }
});

Deno.test("a duration above the maximum is refused naming the maximum in its unit", () => {
  const table: [string, string][] = [
    ["2147483648ms", "2147483647ms"],
    ["99999999999ms", "2147483647ms"],
    ["2147484s", "2147483s"],
    ["35792m", "35791m"],
    ["597h", "596h"],
    ["9999999h", "596h"],
    ["99999999999999999999999h", "596h"],
  ];
  for (const [timeout, max] of table) {
    const problems = timeoutProblems(timeout);
    assert.equal(problems.length, 1, timeout);
    const [{ message, fix }] = problems;
    assert.equal(
      message,
      `duration "${timeout}" is above the maximum of ${max} (` +
        (max.endsWith("ms") ? "" : "2147483647ms, ") +
        "about 24.8 days; no timer waits longer)",
    );
    assert.equal(fix, `lower it to ${max} or less`);
  }
});
