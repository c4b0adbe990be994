import { z } from "zod";
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
