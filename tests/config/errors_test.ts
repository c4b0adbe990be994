import assert from "node:assert/strict";
import { ConfigError, type ConfigIssue, formatIssue } from "../../src/config/mod.ts";

const issue = (line: number, column: number, extra: Partial<ConfigIssue> = {}): ConfigIssue => ({
  file: "skiff.yaml",
  line,
  column,
  path: "listeners[0].routes[2].retry.per_try_timeout",
  message: 'expected a duration such as "250ms" or "2s", got "fast"',
  ...extra,
});

Deno.test("formatIssue writes FILE:LINE:COLUMN: PATH: MESSAGE", () => {
  assert.equal(
    formatIssue(issue(7, 28)),
    'skiff.yaml:7:28: listeners[0].routes[2].retry.per_try_timeout: expected a duration such as "250ms" or "2s", got "fast"',
  );
});

Deno.test("formatIssue puts the fix on an indented line of its own", () => {
  assert.equal(
    formatIssue(issue(1, 2, { path: "x", message: "m", fix: "do this" })),
    "skiff.yaml:1:2: x: m\n  fix: do this",
  );
});

Deno.test("formatIssue leaves out an empty path", () => {
  assert.equal(
    formatIssue(issue(1, 1, { path: "", message: "the file is empty" })),
    "skiff.yaml:1:1: the file is empty",
  );
});

Deno.test("ConfigError lists every issue in file order", () => {
  const err = new ConfigError([
    issue(9, 1, { message: "third" }),
    issue(2, 5, { message: "second" }),
    issue(2, 3, { message: "first", fix: "f" }),
  ]);
  assert.ok(err instanceof Error);
  assert.equal(err.name, "ConfigError");
  assert.deepEqual(err.issues.map((i) => i.message), ["first", "second", "third"]);
  assert.equal(err.message, err.issues.map(formatIssue).join("\n"));
  assert.match(err.message, /^skiff\.yaml:2:3: .*: first\n {2}fix: f\nskiff\.yaml:2:5: /);
});

Deno.test("ConfigError needs at least one issue", () => {
  assert.throws(() => new ConfigError([]), RangeError);
});
