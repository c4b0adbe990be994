import assert from "node:assert/strict";
import { configJsonSchema } from "../../src/config/mod.ts";

const COMMITTED = new URL("../../deploy/skiff.schema.json", import.meta.url);

Deno.test("deploy/skiff.schema.json is the schema the code generates", async () => {
  const generated = JSON.stringify(configJsonSchema(), null, 2) + "\n";
  const committed = await Deno.readTextFile(COMMITTED);
  assert.ok(
    committed === generated,
    "deploy/skiff.schema.json is stale; regenerate it with " +
      "`deno run -A src/main.ts schema --out deploy/skiff.schema.json` (deno task schema)",
  );
});

Deno.test("configJsonSchema identifies itself and describes the input format", () => {
  const schema = configJsonSchema();
  assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
  assert.equal(typeof schema.$id, "string");
  assert.equal(schema.title, "skiff configuration");
  assert.deepEqual(schema.required, ["listeners"]);
  assert.equal(schema.additionalProperties, false);
  // Durations and addresses are written as text, with defaults as a user would write them.
  const listener = dig(schema, "properties", "listeners", "items", "properties");
  assert.equal(dig(listener, "address", "type"), "string");
  assert.match("127.0.0.1:8080", new RegExp(dig(listener, "address", "pattern") as string));
  const timeout = dig(listener, "routes", "items", "properties", "timeout");
  assert.deepEqual([dig(timeout, "type"), dig(timeout, "default")], ["string", "15s"]);
});

Deno.test("configJsonSchema returns a fresh object each time", () => {
  const a = configJsonSchema();
  a.title = "changed";
  assert.equal(configJsonSchema().title, "skiff configuration");
});

function dig(value: unknown, ...keys: string[]): unknown {
  return keys.reduce((v, k) => (v as Record<string, unknown>)[k], value);
}
