/**
 * Names a parsed YAML value the way a user would talk about it in an error message:
 * `"abc"`, `the number 5`, `true`, `a list`, `a mapping`, `an empty value`.
 */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return "an empty value";
  if (typeof value === "string") return quote(value);
  if (typeof value === "number") return `the number ${value}`;
  if (typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return value.length === 0 ? "an empty list" : "a list";
  if (typeof value === "object") return "a mapping";
  return String(value);
}

/** JSON-quotes a string, shortening it to about 60 characters. */
export function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? text.slice(0, 57) + "..." : text);
}

/** Joins quoted choices as `"a", "b" or "c"`. */
export function listChoices(values: readonly unknown[]): string {
  const quoted = values.map((v) => typeof v === "string" ? quote(v) : String(v));
  return quoted.length <= 1
    ? quoted.join("")
    : `${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]}`;
}
