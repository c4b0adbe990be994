import assert from "node:assert/strict";
import fc from "fast-check";
import { formatDuration, parseDuration } from "../../src/config/mod.ts";
import { DURATION_PATTERN } from "../../src/config/duration.ts";

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
      "1000000000ms",
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
