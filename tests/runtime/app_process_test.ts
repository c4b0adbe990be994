import assert from "node:assert/strict";
import { Logger, systemClock } from "../../src/core/mod.ts";
import { AppProcess, exitOf } from "../../src/runtime/app_process.ts";
import { waitFor, within } from "../_harness/mod.ts";

function logger() {
  const lines: Record<string, unknown>[] = [];
  const log = new Logger({
    clock: systemClock,
    sink: (l) => lines.push(JSON.parse(l)),
    level: "debug",
  });
  return { log, lines };
}

/** Runs `script` with sh, its stdout collected (the real app inherits skiff's stdio). */
function sh(script: string, log: Logger) {
  let out = "";
  const app = AppProcess.start(["sh", "-c", script], log, (argv) => {
    const child = new Deno.Command(argv[0], { args: argv.slice(1), stdout: "piped" }).spawn();
    const decoder = new TextDecoder();
    void (async () => {
      for await (const c of child.stdout) out += decoder.decode(c, { stream: true });
    })();
    return child;
  });
  return { app, out: () => out };
}

Deno.test("app: its exit code is the status to exit with", async () => {
  const { log, lines } = logger();
  const exit = await within("the app", AppProcess.start(["sh", "-c", "exit 3"], log).exited);
  assert.deepEqual(exit, { code: 3, reason: "exited" });
  assert.ok(lines.some((l) => l.msg === "app exited" && l.code === 3));
});

Deno.test("app: ended by signal N, the status is 128 + N", async () => {
  const { log } = logger();
  const exit = await within("the app", AppProcess.start(["sh", "-c", "kill -TERM $$"], log).exited);
  assert.deepEqual(exit, { code: 143, signal: "SIGTERM", reason: "killed" });
});

Deno.test("app: a program that does not exist is status 127, and never throws", async () => {
  const { log, lines } = logger();
  const app = AppProcess.start(["skiff-test-no-such-program"], log);
  assert.equal(app.pid, undefined);
  assert.equal(app.running, false);
  assert.equal(app.signal("SIGTERM"), false);
  assert.deepEqual(await app.exited, { code: 127, reason: "not_found" });
  assert.ok(lines.some((l) => l.level === "error" && l.app === "skiff-test-no-such-program"));
});

Deno.test("app: a file that cannot be run is status 126", async () => {
  const dir = await Deno.makeTempDir({ prefix: "skiff_app_" });
  try {
    await Deno.writeTextFile(`${dir}/not-executable`, "#!/bin/sh\nexit 0\n", { mode: 0o644 });
    const { log } = logger();
    const exit = await AppProcess.start([`${dir}/not-executable`], log).exited;
    assert.deepEqual(exit, { code: 126, reason: "not_executable" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("app: signals reach it, and it decides how to exit", async () => {
  const { log } = logger();
  const { app, out } = sh(
    `trap 'echo got-usr1' USR1; trap 'echo got-term; exit 7' TERM
     echo up; while :; do sleep 0.05; done`,
    log,
  );
  assert.ok(app.pid !== undefined && app.running);
  await waitFor("the app to set its traps", () => out().includes("up"));
  assert.equal(app.signal("SIGUSR1"), true);
  await waitFor("the app to see SIGUSR1", () => out().includes("got-usr1"));
  assert.equal(app.running, true, "the app chose to keep running");
  app.signal("SIGTERM");
  assert.deepEqual(await within("the app", app.exited), { code: 7, reason: "exited" });
  assert.match(out(), /got-term/);
  assert.equal(app.running, false);
  assert.equal(app.signal("SIGTERM"), false, "nothing is sent to an app that is gone");
});

Deno.test("app: exitOf maps a status as a shell does", () => {
  assert.deepEqual(exitOf({ success: true, code: 0, signal: null }), { code: 0, reason: "exited" });
  assert.deepEqual(exitOf({ success: false, code: 130, signal: "SIGINT" }), {
    code: 130,
    signal: "SIGINT",
    reason: "killed",
  });
});
