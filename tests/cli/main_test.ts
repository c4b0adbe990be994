// End-to-end: `skiff` as a child process, as users type it. Usage errors come before anything
// needs a permission, so these run skiff without any.
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

async function skiff(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "src/main.ts", ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder();
  return { code, out: text.decode(stdout), err: text.decode(stderr) };
}

Deno.test("main: --help and -h print the usage and exit 0, like skiff help", async () => {
  const help = await skiff("help");
  assert.equal(help.code, 0, help.err);
  assert.match(help.out, /^usage:\n {2}skiff run /);
  for (const flag of ["--help", "-h"]) {
    const r = await skiff(flag);
    assert.equal(r.code, 0, `${flag}: ${r.err}`);
    assert.equal(r.err, "");
    assert.equal(r.out, help.out, flag);
  }
});

Deno.test("main: run --log-level with an unknown level exits 2 naming the levels", async () => {
  // A config file that does not exist: before the fix, skiff went on to load it (exit 1).
  const r = await skiff("run", "-c", "no/such/skiff.yaml", "--log-level", "verbose");
  assert.equal(r.code, 2, r.err);
  assert.equal(r.out, "");
  assert.match(
    r.err,
    /^skiff run: --log-level takes debug, info, warn or error, got "verbose"\nusage:\n {2}skiff run /,
  );
});

Deno.test("main: demo --seconds that is not a positive number exits 2 saying what is allowed", async () => {
  for (const bad of ["abc", "0"]) {
    const r = await skiff("demo", "--seconds", bad);
    assert.equal(r.code, 2, r.err);
    assert.equal(r.out, "", "nothing started");
    assert.match(
      r.err,
      new RegExp(
        `^skiff demo: --seconds takes a number of seconds greater than 0, such as 6 or 2\\.5, ` +
          `got "${bad}"\\nusage:\\n {2}skiff demo \\[--seconds N\\]`,
      ),
    );
  }
});

Deno.test("main: the usage lists every flag README.md gives each command", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const start = readme.indexOf("Subcommands:");
  assert.ok(start >= 0, 'README.md has a "Subcommands:" paragraph');
  const paragraph = readme.slice(start, readme.indexOf("\n\n", start));
  const { code, out } = await skiff("help");
  assert.equal(code, 0);
  // Each command's part of the usage: its "  skiff NAME" lines and those indented below them.
  const sections = new Map<string, string>();
  let current = "";
  for (const line of out.split("\n")) {
    const m = /^ {2}skiff ([a-z]+)/.exec(line);
    if (m) current = m[1];
    sections.set(current, (sections.get(current) ?? "") + line + "\n");
  }
  let checked = 0;
  for (const [, span] of paragraph.matchAll(/`([^`]+)`/g)) {
    const command = span.split(/\s/)[0];
    if (!sections.has(command)) continue; // `deno task members`
    for (const [flag] of span.matchAll(/(?<![\w-])--?[a-z][\w-]*/g)) {
      assert.ok(sections.get(command)!.includes(flag), `skiff help shows ${command} ${flag}`);
      checked++;
    }
  }
  assert.ok(checked >= 8, `README.md's flags were found (${checked})`);
});
