// End-to-end: `skiff validate` as a real child process, with only --allow-read, as users
// run it (deno task validate).
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

async function skiff(
  args: string[],
  permissions: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...permissions, "src/main.ts", ...args],
    cwd: ROOT,
    stdin: "null",
    env: { NO_COLOR: "1" },
    // A skiff run that does accept its config serves until stopped: stop it then.
    signal: AbortSignal.timeout(30_000),
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

function validate(files: string[], permissions = ["--allow-read"]) {
  return skiff(["validate", ...files], permissions);
}

Deno.test("skiff validate exits 1 and prints file:line:column for a bad file", async () => {
  const file = "tests/config/testdata/bad/unknown_key_nested.yaml";
  const { code, stdout, stderr } = await validate([file]);
  assert.equal(code, 1, stderr);
  assert.equal(stdout, "");
  assert.match(
    stderr,
    /^tests\/config\/testdata\/bad\/unknown_key_nested\.yaml:8:9: listeners\[0\]\.routes\[0\]\.retires: unknown key "retires" — did you mean "retry"\?$/m,
  );
  // The whole output is the golden text, with the file named as it was on the command line.
  const golden = await Deno.readTextFile(new URL(file.replace(".yaml", ".golden"), ROOT));
  assert.equal(stderr, golden.replaceAll("testdata/bad/", "tests/config/testdata/bad/"));
});

Deno.test("skiff validate exits 0 for good files", async () => {
  const files = ["deploy/examples/minimal.yaml", "deploy/examples/full.yaml"];
  const { code, stdout, stderr } = await validate(files);
  assert.equal(code, 0, stderr);
  assert.equal(stdout, files.map((f) => `${f}: ok\n`).join(""));
});

Deno.test("skiff validate checks every file and fails if any is bad", async () => {
  const { code, stdout, stderr } = await validate([
    "tests/config/testdata/bad/bad_duration.yaml",
    "deploy/examples/minimal.yaml",
    "no/such/file.yaml",
  ]);
  assert.equal(code, 1);
  assert.equal(stdout, "deploy/examples/minimal.yaml: ok\n");
  assert.match(stderr, /^tests\/config\/testdata\/bad\/bad_duration\.yaml:6:13: /m);
  assert.match(
    stderr,
    /^no\/such\/file\.yaml:1:1: cannot read the config file: it does not exist$/m,
  );
});

Deno.test("skiff validate says which permission is missing", async () => {
  const { code, stderr } = await validate(["deploy/examples/minimal.yaml"], []);
  assert.equal(code, 1);
  assert.match(stderr, /^deploy\/examples\/minimal\.yaml:1:1: cannot read the config file: /m);
  assert.match(stderr, /fix: run skiff with --allow-read/);
});

Deno.test("skiff run refuses what skiff validate refuses, with the same located problems", async () => {
  // A cluster listing an endpoint twice once passed validate and failed only when the data
  // plane started, with a bare TypeError.
  const file = "tests/config/testdata/bad/duplicate_endpoints.yaml";
  const checked = await validate([file]);
  assert.equal(checked.code, 1, checked.stderr);
  assert.match(
    checked.stderr,
    /^tests\/config\/testdata\/bad\/duplicate_endpoints\.yaml:9:58: clusters\[0\]\.endpoints\[1\]\.address: endpoint address "127\.0\.0\.1:18080" is already listed by clusters\[0\]\.endpoints\[0\]\n {2}fix: /m,
  );
  const ran = await skiff(["run", "-c", file], ["--allow-all", "--unstable-net"]);
  assert.equal(ran.code, 1, ran.stderr);
  assert.equal(ran.stderr, checked.stderr);
});
