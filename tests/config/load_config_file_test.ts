import assert from "node:assert/strict";
import { ConfigError, type ConfigIssue, loadConfigFile } from "../../src/config/mod.ts";

const EXAMPLE = new URL("../../deploy/examples/minimal.yaml", import.meta.url).pathname;

/** The single issue `loadConfigFile(path)` reports; fails when it loads. */
async function theIssue(path: string): Promise<ConfigIssue> {
  try {
    await loadConfigFile(path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    assert.equal(err.issues.length, 1, err.message);
    return err.issues[0];
  }
  assert.fail(`${path} loaded, but a ConfigError was expected`);
}

Deno.test("loadConfigFile reads and validates a file", async () => {
  const config = await loadConfigFile(EXAMPLE);
  assert.equal(config.listeners[0].name, "ingress");
});

Deno.test("loadConfigFile reports a missing file at line 1, column 1", async () => {
  const issue = await theIssue("does/not/exist.yaml");
  assert.deepEqual(issue, {
    file: "does/not/exist.yaml",
    line: 1,
    column: 1,
    path: "",
    message: "cannot read the config file: it does not exist",
    fix: "check the path; a relative path starts from the current directory",
  });
});

Deno.test("loadConfigFile reports a directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const issue = await theIssue(dir);
    assert.equal(issue.message, "cannot read the config file: it is a directory");
  } finally {
    await Deno.remove(dir);
  }
});

Deno.test("loadConfigFile reports a file that is not UTF-8", async () => {
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  try {
    await Deno.writeFile(file, new Uint8Array([0x6c, 0x3a, 0x20, 0xff, 0xfe, 0x0a]));
    const issue = await theIssue(file);
    assert.equal(issue.message, "the file is not UTF-8 text");
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("loadConfigFile reports a file it may not read", {
  ignore: Deno.build.os === "windows" || Deno.uid() === 0,
}, async () => {
  // Skipped as root (and on Windows): root reads files whatever their mode.
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  try {
    await Deno.chmod(file, 0o000);
    const issue = await theIssue(file);
    assert.equal(issue.message, "cannot read the config file: the operating system denied access");
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("loadConfigFile reports problems under the path it was given", async () => {
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  try {
    await Deno.writeTextFile(file, "listeners: []\n");
    const issue = await theIssue(file);
    assert.equal(issue.file, file);
    assert.equal(issue.path, "listeners");
  } finally {
    await Deno.remove(file);
  }
});
