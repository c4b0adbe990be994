// skiff's command line, parsed in-process: what each command takes and the usage errors
// (exit 2) for everything else, with messages that say what is allowed.
import assert from "node:assert/strict";
import { parseCommandLine, UsageError } from "../../src/cli/mod.ts";

/** The usage error of `args`: the command it names and its message. */
function usageError(args: string[]): { command: string | undefined; message: string } {
  try {
    parseCommandLine(args);
  } catch (err) {
    if (err instanceof UsageError) return { command: err.command, message: err.message };
    throw err;
  }
  assert.fail(`${JSON.stringify(args)} parsed without a usage error`);
}

Deno.test("cli: --help and -h ask for the usage, as the command or after one", () => {
  for (
    const args of [
      ["--help"],
      ["-h"],
      ["help"],
      ["help", "run"],
      ["run", "--help"],
      ["run", "-c", "skiff.yaml", "-h"],
      ["demo", "--seconds", "abc", "--help"],
      ["validate", "--help"],
    ]
  ) {
    assert.deepEqual(parseCommandLine(args), { command: "help" }, JSON.stringify(args));
  }
});

Deno.test("cli: -h after -- belongs to the app, not to skiff", () => {
  assert.deepEqual(parseCommandLine(["run", "--", "app", "-h"]), {
    command: "run",
    config: undefined,
    level: "info",
    events: false,
    hotRestart: false,
    app: ["app", "-h"],
  });
});

Deno.test("cli: run takes every log level, info by default", () => {
  for (const level of ["debug", "info", "warn", "error"]) {
    const cmd = parseCommandLine(["run", "--log-level", level]);
    assert.equal(cmd.command === "run" && cmd.level, level);
  }
  const cmd = parseCommandLine(["run", "-c", "a.yaml", "--events", "json", "--hot-restart"]);
  assert.deepEqual(cmd, {
    command: "run",
    config: "a.yaml",
    level: "info",
    events: true,
    hotRestart: true,
    app: undefined,
  });
});

Deno.test("cli: an unknown log level is a usage error naming the levels", () => {
  for (const level of ["verbose", "INFO", "trace", "warning"]) {
    const e = usageError(["run", "--log-level", level]);
    assert.equal(e.command, "run");
    assert.equal(
      e.message,
      `skiff run: --log-level takes debug, info, warn or error, got "${level}"`,
    );
  }
});

Deno.test("cli: demo --seconds takes a number greater than 0, 6 by default", () => {
  const seconds = (args: string[]) => {
    const cmd = parseCommandLine(["demo", ...args]);
    return cmd.command === "demo" ? cmd.seconds : undefined;
  };
  assert.equal(seconds([]), 6);
  assert.equal(seconds(["--seconds", "3"]), 3);
  assert.equal(seconds(["--seconds=2.5"]), 2.5);
  for (const bad of ["abc", "0", "0.0", "-1", "1e3", "0x10", " 3", "3s", "Infinity", "NaN"]) {
    const e = usageError(["demo", `--seconds=${bad}`]);
    assert.equal(e.command, "demo");
    assert.equal(
      e.message,
      `skiff demo: --seconds takes a number of seconds greater than 0, such as 6 or 2.5, ` +
        `got "${bad}"`,
    );
  }
});

Deno.test("cli: a flag the command does not take is a usage error naming the ones it takes", () => {
  assert.equal(
    usageError(["run", "--seconds", "3"]).message,
    'skiff run: unknown flag "--seconds" (demo takes it); run takes -c/--config, ' +
      "--log-level, --events, --hot-restart",
  );
  assert.equal(
    usageError(["validate", "--out", "x", "a.yaml"]).message,
    'skiff validate: unknown flag "--out" (schema and ca take it); validate takes none',
  );
  assert.match(usageError(["demo", "--second", "3"]).message, /unknown flag "--second"/);
});

Deno.test("cli: missing and empty values are usage errors", () => {
  assert.equal(usageError(["run", "-c"]).message, "skiff run: -c/--config needs a value");
  assert.equal(usageError(["run", "-c", ""]).message, "skiff run: -c/--config needs a value");
  assert.equal(usageError(["run", "--log-level"]).message, "skiff run: --log-level needs a value");
  assert.equal(
    usageError(["demo", "--seconds", "-1"]).message,
    'skiff demo: --seconds needs a value, and "-1" looks like a flag; for a value that starts ' +
      'with "-", write --seconds=-1',
  );
  assert.equal(
    usageError(["members", "--json=yes"]).message,
    'skiff members: --json takes no value, got "yes"',
  );
});

Deno.test("cli: arguments a command does not take are usage errors", () => {
  assert.match(usageError(["demo", "3"]).message, /^skiff demo: unexpected argument "3"$/);
  assert.match(usageError(["schema", "out.json"]).message, /unexpected argument "out\.json"/);
  assert.match(usageError(["run", "app"]).message, /unexpected argument "app" — to run an app/);
  assert.match(usageError(["run", "--"]).message, /name the app after --/);
  assert.match(usageError(["validate"]).message, /name at least one config file/);
  assert.match(usageError(["ca"]).message, /name the subcommand: init or issue/);
  assert.match(usageError(["ca", "init", "x"]).message, /unexpected argument "x"/);
});

Deno.test("cli: members takes -c or --admin HOST:PORT, not both", () => {
  assert.deepEqual(parseCommandLine(["members", "--admin", "127.0.0.1:9901", "--json"]), {
    command: "members",
    config: undefined,
    admin: "127.0.0.1:9901",
    json: true,
  });
  assert.match(usageError(["members", "--admin", "localhost"]).message, /HOST:PORT .*"localhost"/);
  assert.match(usageError(["members", "--admin", "h:70000"]).message, /port from 1 to 65535/);
  assert.match(
    usageError(["members", "-c", "a.yaml", "--admin", "h:1"]).message,
    /give -c FILE or --admin HOST:PORT, not both/,
  );
});

Deno.test("cli: an unknown command, or none, is a usage error with the whole usage", () => {
  assert.deepEqual(usageError([]), { command: undefined, message: "skiff: name a command" });
  assert.deepEqual(usageError(["serve"]), {
    command: undefined,
    message: 'skiff: unknown command "serve"',
  });
  assert.match(usageError(["-c", "a.yaml", "run"]).message, /the command comes first/);
  assert.match(usageError(["constructor"]).message, /unknown command "constructor"/);
});

Deno.test("cli: validate, schema and ca pass their arguments on", () => {
  assert.deepEqual(parseCommandLine(["validate", "a.yaml", "b.yaml"]), {
    command: "validate",
    files: ["a.yaml", "b.yaml"],
  });
  assert.deepEqual(parseCommandLine(["schema", "--out", "s.json"]), {
    command: "schema",
    out: "s.json",
  });
  const ca = parseCommandLine(["ca", "issue", "--ca", "ca/", "--ttl", "1h"]);
  assert.equal(ca.command, "ca");
  assert.equal(ca.command === "ca" && ca.subcommand, "issue");
  assert.equal(ca.command === "ca" && ca.options.ttl, "1h");
});
