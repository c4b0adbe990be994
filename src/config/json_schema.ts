import { z } from "zod";
import { DURATION_PATTERN } from "./duration.ts";
import { ConfigSchema } from "./schema.ts";

/** The `$id` of skiff's config JSON Schema. */
const SCHEMA_ID = "urn:skiff:config:v1";

/**
 * The JSON Schema (draft 2020-12) of the config file as a user writes it: durations and
 * addresses are strings, defaults are shown as they would be written. Editors use it for
 * completion and checking, e.g. with a `# yaml-language-server: $schema=skiff.schema.json`
 * comment. It cannot express the cross-references (cluster names, unique addresses) that
 * {@link parseConfig} also checks.
 *
 * @returns a fresh JSON-serialisable object on every call
 * @example
 * ```ts
 * await Deno.writeTextFile("skiff.schema.json", JSON.stringify(configJsonSchema(), null, 2));
 * ```
 */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ConfigSchema, { io: "input", unrepresentable: "throw" });
  const { $schema, ...rest } = schema;
  return {
    $schema,
    $id: SCHEMA_ID,
    title: "skiff configuration",
    description: "The YAML config file of skiff, a service-mesh sidecar.",
    ...rest,
    // Top-level x- keys hold YAML anchors for the rest of the file; skiff ignores them.
    patternProperties: { "^x-": {} },
  };
}

let durationKeyNames: ReadonlySet<string> | undefined;

/**
 * The names of the config's duration keys (`timeout`, `idle_timeout`, `base_interval`, …),
 * from the schema: no key of another kind has one of these names, so a config rendered as JSON
 * can write durations back as text (`5000` → `"5s"`).
 *
 * @throws {Error} when a key name is a duration in one place and not in another
 */
export function durationKeys(): ReadonlySet<string> {
  if (durationKeyNames) return durationKeyNames;
  const root = configJsonSchema();
  const names = new Set<string>();
  const others = new Set<string>();
  const resolve = (node: Record<string, unknown>): Record<string, unknown> => {
    const ref = node.$ref;
    if (typeof ref !== "string" || !ref.startsWith("#/")) return node;
    let target: unknown = root;
    for (const part of ref.slice(2).split("/")) target = (target as Record<string, unknown>)[part];
    return target as Record<string, unknown>;
  };
  const isDuration = (node: Record<string, unknown>): boolean => {
    const n = resolve(node);
    if (n.pattern === DURATION_PATTERN.source) return true;
    return ["anyOf", "oneOf", "allOf"].some((k) =>
      ((n[k] as Record<string, unknown>[] | undefined) ?? []).some(isDuration)
    );
  };
  const walk = (node: unknown, depth: number): void => {
    if (depth > 40 || node === null || typeof node !== "object") return;
    const n = resolve(node as Record<string, unknown>);
    for (const k of ["anyOf", "oneOf", "allOf"]) {
      for (const alt of (n[k] as unknown[] | undefined) ?? []) walk(alt, depth + 1);
    }
    const props = (n.properties ?? {}) as Record<string, Record<string, unknown>>;
    for (const [key, sub] of Object.entries(props)) {
      (isDuration(sub) ? names : others).add(key);
      walk(sub, depth + 1);
    }
    if (n.items !== undefined) walk(n.items, depth + 1);
  };
  walk(root, 0);
  const both = [...names].filter((n) => others.has(n));
  if (both.length > 0) {
    throw new Error(
      `Config keys named ${both.join(", ")} are durations in one place and not in another: ` +
        "rename one, so that a rendered config can tell them apart",
    );
  }
  return (durationKeyNames = names);
}
