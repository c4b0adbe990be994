import type { z } from "zod";
import { describeValue, listChoices } from "./_describe_value.ts";
import { suggest } from "./suggest.ts";

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  array: "a list",
  object: "a mapping",
  record: "a mapping",
};

/**
 * A zod error map that words the schema's generic issues for people editing YAML. Messages
 * written into the schema itself take precedence over it. A fix, when there is one, follows
 * the message after " — ", which is how the schema's own messages carry theirs.
 */
export const zodMessages: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case "invalid_type":
      if ((iss.path ?? []).length === 0 && iss.input !== undefined) {
        return `expected a mapping with a "listeners" key at the top level, got ${
          describeValue(iss.input)
        } — start the file with "listeners:"`;
      }
      return invalidType(iss.expected, iss.input);
    case "too_small":
      return bound(iss.origin, iss.input, iss.minimum, iss.inclusive, "small");
    case "too_big":
      return bound(iss.origin, iss.input, iss.maximum, iss.inclusive, "big");
    case "invalid_value": {
      const near = typeof iss.input === "string"
        ? suggest(iss.input, iss.values.filter((v): v is string => typeof v === "string"))
        : undefined;
      return `expected ${iss.values.length === 1 ? "" : "one of "}${listChoices(iss.values)}, ` +
        `got ${describeValue(iss.input)}` + (near ? ` — did you mean "${near}"?` : "");
    }
    case "invalid_format":
      return iss.format === "starts_with"
        ? `expected text starting with "${iss.prefix}", got ${describeValue(iss.input)}`
        : `expected text matching ${iss.pattern ?? iss.format}, got ${describeValue(iss.input)}`;
    case "not_multiple_of":
      return `expected a multiple of ${iss.divisor}, got ${describeValue(iss.input)}`;
    default:
      return undefined;
  }
};

function invalidType(expected: string, input: unknown): string {
  if (input === undefined) return "this key is required";
  const want = TYPE_NAMES[expected] ?? expected;
  const got = describeValue(input);
  let fix = "";
  if (input === null) fix = "give it a value or remove the key";
  else if (expected === "string" && typeof input !== "object") fix = `quote it: "${input}"`;
  else if (expected === "array") fix = 'write a list, one "- " item per line';
  else if (expected === "object" || expected === "record") {
    fix = "write a mapping of key: value lines";
  } else if (expected === "boolean") fix = "write true or false, without quotes";
  else if (
    (expected === "number" || expected === "int") && typeof input === "string" &&
    input.trim() !== "" && !Number.isNaN(Number(input))
  ) fix = "remove the quotes";
  else if (expected === "int" && typeof input === "number") fix = "write a whole number";
  return `expected ${want}, got ${got}` + (fix ? ` — ${fix}` : "");
}

function bound(
  origin: string,
  input: unknown,
  limit: number | bigint,
  inclusive: boolean | undefined,
  side: "small" | "big",
): string {
  const got = describeValue(input);
  if (origin === "array" || origin === "set") {
    const n = Array.isArray(input) ? input.length : undefined;
    const items = (k: number | bigint) => `${k} item${k === 1 ? "" : "s"}`;
    const need = side === "small" ? `at least ${items(limit)}` : `at most ${items(limit)}`;
    return `expected ${need}, got ${n === undefined ? got : n === 0 ? "none" : n}`;
  }
  if (origin === "string") {
    if (side === "small" && Number(limit) === 1) return "expected text, got an empty string";
    const need = side === "small" ? `at least ${limit}` : `at most ${limit}`;
    const length = typeof input === "string" ? input.length : "?";
    return `expected ${need} characters, got ${length}`;
  }
  const words = side === "small"
    ? (inclusive ? "at least" : "greater than")
    : (inclusive ? "at most" : "less than");
  return `expected a number ${words} ${limit}, got ${typeof input === "number" ? input : got}`;
}
