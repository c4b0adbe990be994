import type { Logger } from "../core/mod.ts";

/**
 * The signals skiff passes on to the app it runs (`skiff run -- app`). SIGHUP is not one:
 * it stays skiff's own (reload the config).
 */
export const FORWARDED_SIGNALS: readonly Deno.Signal[] = [
  "SIGTERM",
  "SIGINT",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
];

/** How the app ended, and the status skiff exits with because of it. */
export interface AppExit {
  /**
   * The status to exit with, as a shell reports it: the app's exit code; 128 + N when
   * signal N ended it; 127 when the program was not found; 126 when it could not be run.
   */
  code: number;
  /** The signal that ended the app, if one did. */
  signal?: Deno.Signal;
  /** Why the app is gone. */
  reason: "exited" | "killed" | "not_found" | "not_executable";
}

/** The part of a child process an `AppProcess` uses (`Deno.ChildProcess` fits). */
export interface AppChild {
  readonly pid: number;
  readonly status: Promise<Deno.CommandStatus>;
  kill(signal?: Deno.Signal): void;
}

/** Starts `argv` (`Deno.Command` with inherited stdio by default). */
export type SpawnApp = (argv: readonly string[]) => AppChild;

const spawnInherited: SpawnApp = (argv) =>
  new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();

/**
 * The app skiff runs beside itself (`skiff run -c FILE -- app args…`): started once skiff is
 * ready, with skiff's stdin, stdout, stderr and environment; skiff forwards signals to it and
 * exits with its status.
 *
 * @example
 * ```ts
 * const app = AppProcess.start(["sh", "-c", "exit 3"], log);
 * const { code } = await app.exited; // 3
 * ```
 */
export class AppProcess {
  readonly #child: AppChild | undefined;
  readonly #log: Logger;
  #running: boolean;
  /** Settles once the app is gone; never rejects. */
  readonly exited: Promise<AppExit>;

  private constructor(argv: readonly string[], log: Logger, spawn: SpawnApp) {
    this.#log = log;
    let child: AppChild | undefined;
    let failed: AppExit | undefined;
    try {
      child = spawn(argv);
    } catch (err) {
      failed = spawnFailure(argv[0], err, log);
    }
    this.#child = child;
    this.#running = child !== undefined;
    if (child) log.info("app started", { app: argv[0], app_pid: child.pid });
    this.exited = failed ? Promise.resolve(failed) : child!.status.then((s) => {
      this.#running = false;
      const exit = exitOf(s);
      log.info("app exited", { app: argv[0], app_pid: child!.pid, ...exit });
      return exit;
    });
  }

  /**
   * Starts the app. Never throws: a program that cannot be started is an app that exited at
   * once, with 127 (not found) or 126 (not runnable), and the reason logged.
   *
   * @param argv the program and its arguments; the program is looked up in PATH
   * @param log where start, exit and failures are reported
   * @param spawn starts the process (tests)
   */
  static start(argv: readonly string[], log: Logger, spawn = spawnInherited): AppProcess {
    if (argv.length === 0) throw new TypeError("The app to run needs at least a program name");
    return new AppProcess(argv, log, spawn);
  }

  /** The app's process id, unless it could not be started. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** True until the app is known to be gone. */
  get running(): boolean {
    return this.#running;
  }

  /**
   * Sends `signal` to the app while it runs.
   *
   * @returns true when it was sent
   */
  signal(signal: Deno.Signal): boolean {
    if (!this.#child || !this.#running) return false;
    try {
      this.#child.kill(signal);
    } catch (err) {
      // It ended between our check and the kill; its exit is on its way.
      this.#log.debug("signal not forwarded: the app is gone", { signal, err });
      return false;
    }
    this.#log.info("signal forwarded to the app", { signal, app_pid: this.#child.pid });
    return true;
  }
}

/** The exit of a process that ran, as a shell reports it. */
export function exitOf(status: Deno.CommandStatus): AppExit {
  if (status.signal) {
    // Deno reports 128 + N as the code of a process that signal N ended.
    return { code: status.code, signal: status.signal, reason: "killed" };
  }
  return { code: status.code, reason: "exited" };
}

function spawnFailure(program: string, err: unknown, log: Logger): AppExit {
  if (err instanceof Deno.errors.NotFound) {
    log.error("cannot start the app: program not found", {
      app: program,
      fix: "check the name, or give its path; it is looked up in PATH",
    });
    return { code: 127, reason: "not_found" };
  }
  log.error("cannot start the app", {
    app: program,
    err,
    fix: "check that it is an executable file skiff may run (deno run --allow-run)",
  });
  return { code: 126, reason: "not_executable" };
}
