// Golden tests: every testdata/bad/NAME.yaml must be rejected with exactly the error text in
// testdata/bad/NAME.golden. After an intended change of wording, regenerate the goldens and
// review the diff before committing:
//
//   UPDATE_GOLDEN=1 deno test --allow-read --allow-write --allow-env tests/config/golden_test.ts
import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "../../src/config/mod.ts";

const BAD = new URL("./testdata/bad/", import.meta.url);

function updating(): boolean {
  const env = Deno.permissions.querySync({ name: "env", variable: "UPDATE_GOLDEN" });
  return env.state === "granted" && Deno.env.get("UPDATE_GOLDEN") === "1";
}

const names = [...Deno.readDirSync(BAD)]
  .map((e) => e.name)
  .filter((n) => n.endsWith(".yaml"))
  .map((n) => n.slice(0, -".yaml".length))
  .sort();

/** The full error output for a bad file, as `skiff validate` prints it (plus a newline). */
function errorOutput(name: string): string {
  const file = `testdata/bad/${name}.yaml`;
  const text = Deno.readTextFileSync(new URL(`${name}.yaml`, BAD));
  try {
    parseConfig(text, file);
  } catch (err) {
    if (err instanceof ConfigError) return err.message + "\n";
    throw err;
  }
  assert.fail(`${file} was accepted, but every file under testdata/bad must be rejected`);
}

for (const name of names) {
  Deno.test(`golden: testdata/bad/${name}.yaml`, () => {
    const actual = errorOutput(name);
    const golden = new URL(`${name}.golden`, BAD);
    if (updating()) {
      Deno.writeTextFileSync(golden, actual);
      return;
    }
    let expected: string;
    try {
      expected = Deno.readTextFileSync(golden);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      assert.fail(`${name}.golden is missing; create it with UPDATE_GOLDEN=1 (see this file)`);
    }
    assert.equal(actual, expected);
  });
}

Deno.test("golden: every .golden file belongs to a bad .yaml file", () => {
  const orphans = [...Deno.readDirSync(BAD)]
    .map((e) => e.name)
    .filter((n) => n.endsWith(".golden") && !names.includes(n.slice(0, -".golden".length)));
  assert.deepEqual(orphans, []);
});

Deno.test("golden: the bad files cover the kinds of mistakes users make", () => {
  const wanted = [
    "yaml_syntax",
    "unknown_key_top",
    "unknown_key_nested",
    "bad_duration",
    "bad_address",
    "wrong_type",
    "missing_field",
    "unknown_cluster",
    "many_errors",
    "duplicate_names",
    "duplicate_keys",
    "duplicate_endpoints",
    "schema_and_references",
    "empty",
  ];
  assert.deepEqual(wanted.filter((n) => !names.includes(n)), []);
});
