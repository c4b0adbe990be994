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
 * written into the schema itself take precedence over it. Every message it words carries a
 * fix after " — ", which is how the schema's own messages carry theirs; a "did you mean"
 * belongs to the message and comes before it.
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
    case "invalid_value":
      return invalidValue(iss.values, iss.input);
    case "invalid_format":
      if (iss.format === "starts_with") {
        return `expected text starting with "${iss.prefix}", got ${describeValue(iss.input)}` +
          ` — ${
            typeof iss.input === "string"
              ? `write "${iss.prefix}${iss.input}"`
              : `start it with "${iss.prefix}"`
          }`;
      }
      return `expected text matching ${iss.pattern ?? iss.format}, got ${
        describeValue(iss.input)
      } — change it to match ${iss.pattern ?? `the ${iss.format} format`}`;
    case "not_multiple_of":
      return `expected a multiple of ${iss.divisor}, got ${describeValue(iss.input)}` +
        ` — use a multiple of ${iss.divisor}`;
    case "invalid_union":
      return invalidUnion(iss.errors, iss.input);
    case "invalid_key":
      return `the key ${describeValue(iss.input)} is not allowed here — ` +
        (iss.input === "" ? "give the key a name; it must not be empty" : "rename the key");
    case "invalid_element":
      return `an item of ${describeValue(iss.input)} is not allowed here — ` +
        "remove it or correct it";
    case "unrecognized_keys":
      // The loader words unknown keys itself, with the keys allowed at their place.
      return `unknown key ${iss.keys.map((k) => `"${k}"`).join(", ")} — remove it`;
    default:
      // "custom": a refinement, whose message (and fix) the schema writes.
      return undefined;
  }
};

function invalidType(expected: string, input: unknown): string {
  if (input === undefined) return "this key is required — add it";
  const want = TYPE_NAMES[expected] ?? expected;
  const got = describeValue(input);
  return `expected ${want}, got ${got} — ${typeFix(expected, want, input)}`;
}

function typeFix(expected: string, want: string, input: unknown): string {
  const numeric = typeof input === "string" && input.trim() !== "" &&
    !Number.isNaN(Number(input));
  if (input === null) return "give it a value or remove the key";
  if (expected === "string" && Array.isArray(input)) {
    return "write a single value, not a list (remove the [ ] or the - items)";
  }
  if (expected === "string" && typeof input === "object") {
    return "write a single value, not a mapping of key: value lines";
  }
  if (expected === "string") return `quote it: "${input}"`;
  if (expected === "array") return 'write a list, one "- " item per line';
  if (expected === "object" || expected === "record") return "write a mapping of key: value lines";
  if (expected === "boolean") return "write true or false, without quotes";
  if ((expected === "number" || expected === "int") && numeric) return "remove the quotes";
  if (expected === "int" && typeof input === "number") return "write a whole number";
  if (expected === "number" || expected === "int") {
    return `write ${want} in digits, e.g. 3`;
  }
  return `write ${want}`;
}

function invalidValue(values: readonly unknown[], input: unknown): string {
  const words = values.filter((v): v is string => typeof v === "string");
  const near = typeof input === "string" ? suggest(input, words) : undefined;
  const message = `expected ${values.length === 1 ? "" : "one of "}${listChoices(values)}, ` +
    `got ${describeValue(input)}` + (near ? ` — did you mean "${near}"?` : "");
  const fix = near
    ? `write "${near}"`
    : values.length === 1
    ? `write ${listChoices(values)}`
    : `use one of: ${values.map(String).join(", ")}`;
  return `${message} — ${fix}`;
}

/**
 * A value that fits none of a union's forms. Its forms are named by the types its options
 * expected; a union whose options differ in more than type words its own message.
 */
function invalidUnion(errors: z.core.$ZodIssue[][], input: unknown): string {
  const kinds = new Set<string>();
  for (const option of errors) {
    for (const iss of option) {
      if (iss.code === "invalid_type" && iss.path.length === 0) {
        kinds.add(TYPE_NAMES[iss.expected] ?? iss.expected);
      }
    }
  }
  const forms = [...kinds].join(" or ") || "another kind of value";
  return `expected ${forms}, got ${describeValue(input)} — write ${forms}`;
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
    const fix = side === "small" ? `list at least ${items(limit)}` : `keep at most ${items(limit)}`;
    return `expected ${need}, got ${n === undefined ? got : n === 0 ? "none" : n} — ${fix}`;
  }
  if (origin === "string") {
    if (side === "small" && Number(limit) === 1) {
      return "expected text, got an empty string — write a value between the quotes";
    }
    const need = side === "small" ? `at least ${limit}` : `at most ${limit}`;
    const length = typeof input === "string" ? input.length : "?";
    const fix = side === "small" ? "lengthen it" : "shorten it";
    return `expected ${need} characters, got ${length} — ${fix} to ${need} characters`;
  }
  const words = side === "small"
    ? (inclusive ? "at least" : "greater than")
    : (inclusive ? "at most" : "less than");
  const fix = side === "small"
    ? (inclusive ? `use ${limit} or more` : `use a number above ${limit}`)
    : (inclusive ? `use ${limit} or less` : `use a number below ${limit}`);
  return `expected a number ${words} ${limit}, got ${
    typeof input === "number" ? input : got
  } — ${fix}`;
}
