// The usage text and the parser come from one table: every flag a command takes is in its
// usage lines, and every flag its usage lines show is one it takes.
import assert from "node:assert/strict";
import { COMMANDS, parseCommandLine, usage, UsageError } from "../../src/cli/mod.ts";

Deno.test("usage: each command's lines list every flag it takes", () => {
  for (const [name, spec] of Object.entries(COMMANDS)) {
    const text = usage(name);
    for (const [flag, f] of Object.entries(spec.flags)) {
      assert.ok(
        text.includes(`--${flag}`) || (f.short && text.includes(`-${f.short} `)),
        `${name} --${flag}`,
      );
    }
    assert.ok(usage().includes(spec.usage), `the whole usage has ${name}'s lines`);
  }
});

Deno.test("usage: every flag a command's lines show is one the command takes", () => {
  for (const [name, spec] of Object.entries(COMMANDS)) {
    if (name === "help") continue;
    for (const [flag] of spec.usage.matchAll(/(?<![\w-])--?[a-z][\w-]*/g)) {
      const args = [name, ...(name === "ca" ? ["init"] : []), flag];
      if (spec.flags[flag.replace(/^--?/, "")]?.type === "string") args.push("x");
      try {
        parseCommandLine(args);
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        assert.doesNotMatch(err.message, /unknown flag/, `${name} ${flag}`);
      }
    }
  }
});
