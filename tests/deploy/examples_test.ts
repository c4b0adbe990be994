// The example configs in deploy/examples are the reference the README points to: full.yaml
// "uses every key of the data plane", and with gossip.yaml and mesh.yaml every key of the
// schema is shown somewhere. A key added to the schema without an example fails here.
import assert from "node:assert/strict";
import { parse } from "yaml";
import { configJsonSchema } from "../../src/config/mod.ts";

const EXAMPLES = new URL("../../deploy/examples/", import.meta.url);

/** Keys no example sets, and why. */
const NOT_SHOWN: Record<string, string> = {
  "gossip.keys": "a key in an example file would be copied; gossip.yaml shows how to make one",
  "gossip.accept_plaintext": "only for switching a cluster to encryption, which needs keys",
  "gossip.advertise": "the default (the first private IPv4) is right for most; shown commented",
};

/** Sections of the mesh and of membership: shown by mesh.yaml and gossip.yaml, not full.yaml. */
const MESH_OR_MEMBERSHIP =
  /^(identity|gossip)(\.|$)|\.authz(\.|$)|\.tls(\.|$)|\.spiffe_id$|^clusters\[\]\.discovery\.service$/;

type Schema = Record<string, unknown>;

/** Every key path of the JSON Schema, e.g. `clusters[].pool.idle_timeout`. */
function schemaPaths(root: Schema): Set<string> {
  const paths = new Set<string>();
  const defs = root;
  const resolve = (node: Schema): Schema => {
    const ref = node.$ref;
    if (typeof ref !== "string" || !ref.startsWith("#/")) return node;
    let target: unknown = defs;
    for (const part of ref.slice(2).split("/")) target = (target as Schema)[part];
    return target as Schema;
  };
  const walk = (node: unknown, path: string, depth: number): void => {
    if (depth > 40 || node === null || typeof node !== "object") return;
    const n = resolve(node as Schema);
    for (const k of ["anyOf", "oneOf", "allOf"]) {
      for (const alt of (n[k] as unknown[] | undefined) ?? []) walk(alt, path, depth + 1);
    }
    for (const [key, sub] of Object.entries((n.properties as Schema | undefined) ?? {})) {
      const p = path === "" ? key : `${path}.${key}`;
      paths.add(p);
      walk(sub, p, depth + 1);
    }
    if (n.items !== undefined) walk(n.items, `${path}[]`, depth + 1);
  };
  walk(root, "", 0);
  return paths;
}

/** Every key path an example file sets. */
async function usedPaths(file: string): Promise<Set<string>> {
  const doc = parse(await Deno.readTextFile(new URL(file, EXAMPLES)));
  const used = new Set<string>();
  const walk = (v: unknown, path: string): void => {
    if (Array.isArray(v)) { for (const x of v) walk(x, `${path}[]`); }
    else if (v !== null && typeof v === "object") {
      for (const [key, x] of Object.entries(v)) {
        const p = path === "" ? key : `${path}.${key}`;
        used.add(p);
        walk(x, p);
      }
    }
  };
  walk(doc, "");
  return used;
}

Deno.test("deploy/examples/full.yaml sets every key of the data plane", async () => {
  const schema = schemaPaths(configJsonSchema());
  assert.ok(schema.has("clusters[].outlier_detection.interval"), "the schema walk finds keys");
  const used = await usedPaths("full.yaml");
  const missing = [...schema].filter((p) =>
    !used.has(p) && !MESH_OR_MEMBERSHIP.test(p) && !(p in NOT_SHOWN)
  );
  assert.deepEqual(missing, [], "keys full.yaml does not show");
});

Deno.test("the examples together set every key of the schema", async () => {
  const schema = schemaPaths(configJsonSchema());
  const used = new Set<string>();
  for (const file of ["full.yaml", "gossip.yaml", "mesh.yaml", "minimal.yaml"]) {
    for (const p of await usedPaths(file)) used.add(p);
  }
  const missing = [...schema].filter((p) => !used.has(p) && !(p in NOT_SHOWN));
  assert.deepEqual(missing, [], "keys no example shows");
  for (const p of Object.keys(NOT_SHOWN)) assert.ok(schema.has(p), `${p} is still a key`);
});
