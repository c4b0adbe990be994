/**
 * skiff's command line and composition root: the only module that reads arguments and the
 * environment and picks real adapters.
 *
 * ```
 * skiff run [-c FILE] [--log-level LEVEL] [--events json] [--hot-restart] [-- APP ARGS...]
 *                            run the sidecar (embedded default config without -c), and
 *                            APP beside it once it is ready
 * skiff members [-c FILE | --admin HOST:PORT] [--json]
 *                            the gossip members a running skiff sees
 * skiff validate FILE...     check config files, print every problem, exit 1 on any
 * skiff schema [--out FILE]  print the JSON Schema of the config file (for editors)
 * skiff demo [--seconds N]   start sample upstreams and skiff, send traffic, print a summary
 * skiff ca init|issue        development CA: create a root, issue X.509-SVIDs
 * skiff help | --help | -h   the usage text (`src/cli/commands.ts`, with every flag)
 * ```
 * @module
 */
import {
  type Config,
  ConfigError,
  configJsonSchema,
  defaultConfig,
  loadConfigFile,
} from "./config/mod.ts";
import { Logger, type LogLevel, mathRng, systemClock } from "./core/mod.ts";
import type { MembershipEvent } from "./discovery/gossip/swim_node.ts";
import type { HostFacts } from "./runtime/membership.ts";
import { Sidecar } from "./runtime/sidecar.ts";
import { WorkerNode } from "./runtime/worker_node.ts";
import type { DrainOptions, LifecycleHooks, Runnable } from "./runtime/lifecycle.ts";
import { ConfigReloader } from "./runtime/config_reloader.ts";
import { AppProcess, FORWARDED_SIGNALS } from "./runtime/app_process.ts";
import { startGuarded } from "./runtime/hot_restart.ts";
import { membersCommand } from "./runtime/members_command.ts";
import { runDemo } from "./demo/mod.ts";
import { type CommandLine, parseCommandLine, usage, UsageError } from "./cli/mod.ts";

const stderr = (line: string) => console.error(line);

/** The host as gossip membership needs to know it; every read falls back when not allowed. */
const hostFacts: HostFacts = {
  hostname: () => {
    try {
      return Deno.hostname();
    } catch {
      return "skiff";
    }
  },
  privateAddress: () => {
    try {
      return Deno.networkInterfaces().find((i) =>
        i.family === "IPv4" && !i.address.startsWith("127.") && !i.address.startsWith("169.254.")
      )?.address;
    } catch {
      return undefined;
    }
  },
  cpu: () => {
    try {
      return Math.min(1, Deno.loadavg()[0] / navigator.hardwareConcurrency);
    } catch {
      return 0;
    }
  },
};

const lineEncoder = new TextEncoder();

/** Writes one JSON line per membership change to stdout (`--events json`). */
function printEvent(e: MembershipEvent): void {
  const line = lineEncoder.encode(JSON.stringify(e) + "\n");
  for (let at = 0; at < line.length;) at += Deno.stdout.writeSync(line.subarray(at));
}

/** The config of `file` (the embedded default without one), or undefined after printing why not. */
async function configOrReport(file: string | undefined): Promise<Config | undefined> {
  try {
    return file ? await loadConfigFile(file) : defaultConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    return undefined;
  }
}

/** What `skiff run` was asked to do. */
interface RunOptions {
  configFile: string | undefined;
  level: LogLevel;
  events: boolean;
  /** The app to run beside skiff (`-- app args…`). */
  app: string[] | undefined;
  hotRestart: boolean;
}

async function run(opts: RunOptions): Promise<number> {
  const { configFile, level } = opts;
  const log = new Logger({ clock: systemClock, sink: stderr, level, fields: { pid: Deno.pid } });
  const config = await configOrReport(configFile);
  if (!config) return 1;
  const source = configFile ?? "the embedded default config";
  if (opts.hotRestart && (!config.admin || config.admin.address.port === 0)) {
    console.error(
      `skiff run --hot-restart: ${source} needs an admin section with a fixed port: the new ` +
        "skiff finds the old one and takes its place through the admin port — add " +
        'admin: { address: "127.0.0.1:9901" } (any free port) to the config',
    );
    return 2;
  }
  // Last line of defence: a bug that escapes as an uncaught error must not take every
  // connection down with it. It is logged loudly and the process keeps serving.
  globalThis.addEventListener("error", (e) => {
    e.preventDefault();
    log.error("uncaught exception (bug)", { err: (e as ErrorEvent).error });
  });
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    log.error("unhandled rejection (bug)", { err: e.reason });
  });

  let reloader: ConfigReloader | undefined;
  let app: AppProcess | undefined;
  let phase: "starting" | "running" | "stopping" = "starting";
  let stopAfterStart: string | undefined;
  let reloadAfterStart = false;
  let interrupts = 0;
  const exit = Promise.withResolvers<number>();

  /** Drains skiff and resolves the exit status (once; later calls change nothing). */
  const drainAndExit = (reason: string, code: number, opts: DrainOptions = {}) => {
    if (phase === "stopping") return;
    phase = "stopping";
    log.info("shutting down", { signal: reason });
    reloader?.close();
    skiff.drain(reason, opts).then(() => exit.resolve(code), (err) => {
      log.error("drain failed (bug)", { err });
      exit.resolve(code === 0 ? 1 : code);
    });
  };
  /**
   * SIGTERM, POST /drain, a hot-restart handover: with an app, it decides when skiff goes. A
   * handover stops gossip without a leave at once, app or not, so that the successor can bind
   * the gossip port and continue the member; it resolves once that port is free.
   */
  const shutdown = (reason: string, opts: DrainOptions = {}): Promise<void> => {
    const released = opts.handover ? skiff.handOver() : Promise.resolve();
    if (phase === "starting") stopAfterStart ??= reason;
    else if (app?.running) {
      app.signal("SIGTERM");
      log.info("serving until the app exits", { reason });
    } else drainAndExit(reason, 0, opts);
    return released;
  };
  const onSignal: Partial<Record<Deno.Signal, () => void>> = {
    SIGTERM: () => void shutdown("SIGTERM"),
    SIGINT: () => {
      if (++interrupts > 1 || phase === "stopping") {
        app?.signal("SIGINT");
        log.warn("second interrupt: exiting at once");
        Deno.exit(130);
      }
      if (phase === "starting") stopAfterStart ??= "SIGINT";
      else if (app?.running) app.signal("SIGINT");
      else drainAndExit("SIGINT", 0);
    },
    SIGHUP: () => {
      if (!reloader) {
        log.warn("SIGHUP: skiff runs on the embedded default config; no file to reload");
      } else if (phase === "starting") reloadAfterStart = true;
      else void reloader.reloadNow("signal");
    },
  };
  if (opts.app) {
    for (const sig of FORWARDED_SIGNALS) onSignal[sig] ??= () => void app?.signal(sig);
  }
  for (const [sig, fn] of Object.entries(onSignal)) Deno.addSignalListener(sig as Deno.Signal, fn);

  const hooks: LifecycleHooks = {
    reload: configFile ? () => reloader!.reloadNow("admin") : undefined,
    drain: shutdown,
  };
  const workers = config.workers === "auto" ? navigator.hardwareConcurrency : config.workers;
  const membership = { host: hostFacts, onEvent: opts.events ? printEvent : undefined };
  // A skiff with an admin port binds its listeners with SO_REUSEPORT, so that a successor can
  // bind beside it (--hot-restart); the admin port, bound exclusively, guards against two
  // skiffs on one config by accident.
  const skiff: Runnable = workers === 0
    ? new Sidecar(config, {
      clock: systemClock,
      rng: mathRng,
      log,
      membership,
      reusePort: config.admin !== undefined,
      hooks,
    })
    : new WorkerNode(config, workers, {
      clock: systemClock,
      log,
      logLevel: level,
      membership,
      hooks,
    });
  if (configFile) {
    reloader = new ConfigReloader({ file: configFile, target: skiff, log, clock: systemClock });
  }
  const started = await startGuarded(skiff, config, opts.hotRestart, {
    clock: systemClock,
    log,
  });
  if (started !== 0) return started;
  phase = "running";
  log.info("skiff started", { config: configFile ?? "(embedded default)", workers });
  if (reloader && config.reload.watch) reloader.watch();
  if (reloadAfterStart) void reloader?.reloadNow("signal");
  if (stopAfterStart) drainAndExit(stopAfterStart, 0);
  else if (opts.app) {
    app = AppProcess.start(opts.app, log);
    void app.exited.then((e) => drainAndExit("app exited", e.code));
  }
  return await exit.promise;
}

async function validate(files: string[]): Promise<number> {
  let failed = false;
  for (const file of files) {
    try {
      await loadConfigFile(file);
      console.log(`${file}: ok`);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      console.error(err.message);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}

async function schema(out: string | undefined): Promise<number> {
  const text = JSON.stringify(configJsonSchema(), null, 2) + "\n";
  if (out) await Deno.writeTextFile(out, text);
  else console.log(text);
  return 0;
}

async function main(args: string[]): Promise<number> {
  let cmd: CommandLine;
  try {
    cmd = parseCommandLine(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n${usage(err.command)}`);
    return 2;
  }
  switch (cmd.command) {
    case "help":
      console.log(usage());
      return 0;
    case "run":
      return await run({
        configFile: cmd.config,
        level: cmd.level,
        events: cmd.events,
        app: cmd.app,
        hotRestart: cmd.hotRestart,
      });
    case "members":
      return await membersCommand(cmd.admin, cmd.json, {
        loadConfig: () => configOrReport(cmd.config),
        source: cmd.config ?? "the embedded default config",
        print: (line) => console.log(line),
        error: stderr,
      });
    case "validate":
      return await validate(cmd.files);
    case "demo":
      return await runDemo({
        seconds: cmd.seconds,
        concurrency: 8,
        write: (t) => Deno.stdout.writeSync(new TextEncoder().encode(t)),
        live: Deno.stdout.isTerminal(),
      });
    case "schema":
      return await schema(cmd.out);
    case "ca": {
      // Loaded on demand: the X.509 library is not needed to run the sidecar.
      const { caCommand } = await import("./security/ca_command.ts");
      return await caCommand(cmd.subcommand, cmd.options, {
        clock: systemClock,
        print: (line) => console.log(line),
        error: stderr,
      });
    }
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
