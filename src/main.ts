/**
 * skiff's command line and composition root: the only module that reads arguments and the
 * environment and picks real adapters.
 *
 * ```
 * skiff run [-c FILE] [--hot-restart] [-- APP ARGS...]
 *                            run the sidecar (embedded default config without -c), and
 *                            APP beside it once it is ready
 * skiff members [-c FILE]    the gossip members a running skiff sees
 * skiff validate FILE...     check config files, print every problem, exit 1 on any
 * skiff schema [--out FILE]  print the JSON Schema of the config file (for editors)
 * skiff demo                 start sample upstreams and skiff, send traffic, print a summary
 * skiff ca init|issue        development CA: create a root, issue X.509-SVIDs
 * ```
 * @module
 */
import { parseArgs } from "node:util";
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
import { CA_USAGE } from "./security/ca_usage.ts";

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

const USAGE = `usage:
  skiff run [-c FILE] [--events json] [--hot-restart] [-- APP [ARGS...]]
                               run the sidecar (embedded default config without -c);
                               --events json prints one line per membership change.
                               SIGHUP (and a change of FILE, with reload.watch) reloads
                               FILE; a bad file is reported and the running config stays.
                               SIGTERM or POST /drain: stop accepting, finish in-flight
                               work, exit 0; SIGINT the same, a second SIGINT exits at once.
                               -- APP: start APP once skiff is ready (listeners bound), with
                               skiff's stdio; SIGTERM, SIGINT, SIGQUIT, SIGUSR1 and SIGUSR2
                               go to APP while skiff keeps serving; when APP exits, skiff
                               drains and exits with its status (128+N if signal N ended
                               it, 127 if APP was not found)
                               --hot-restart: replace the skiff serving the same config
                               (needs an admin section): bind the listeners beside it, ask
                               it to drain, take its admin port
  skiff members [-c FILE | --admin HOST:PORT] [--json]
                               the gossip members a running skiff sees (from its admin API)
  skiff validate FILE...       check config files; prints every problem, exits 1 on any
  skiff schema [--out FILE]    print the JSON Schema of the config file
  skiff demo                   run a demo mesh on the embedded default config
${CA_USAGE}`;

async function validate(files: string[]): Promise<number> {
  if (files.length === 0) {
    console.error("skiff validate: name at least one config file\n" + USAGE);
    return 2;
  }
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
  const [command, ...all] = args;
  // `skiff run … -- app args…`: everything after the first `--` is the app's.
  const dash = command === "run" ? all.indexOf("--") : -1;
  const rest = dash >= 0 ? all.slice(0, dash) : all;
  const app = dash >= 0 ? all.slice(dash + 1) : undefined;
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        config: { type: "string", short: "c" },
        out: { type: "string" },
        help: { type: "boolean", short: "h" },
        "log-level": { type: "string" },
        seconds: { type: "string" },
        events: { type: "string" },
        admin: { type: "string" },
        json: { type: "boolean" },
        "hot-restart": { type: "boolean" },
        ca: { type: "string" },
        "trust-domain": { type: "string" },
        ttl: { type: "string" },
        "spiffe-id": { type: "string" },
        "not-before": { type: "string" },
      },
    });
  } catch (err) {
    console.error(`skiff: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.events !== undefined && values.events !== "json") {
    console.error(`skiff: --events takes "json", got "${values.events}"\n${USAGE}`);
    return 2;
  }
  if (values.help || command === undefined || command === "help") {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  switch (command) {
    case "run":
      if (positionals.length > 0 || app?.length === 0) {
        console.error(
          `skiff run: ${
            app?.length === 0 ? "name the app after --" : `unexpected "${positionals[0]}"`
          } — to run an app beside skiff: skiff run -c FILE -- APP [ARGS...]\n${USAGE}`,
        );
        return 2;
      }
      return await run({
        configFile: values.config,
        level: (values["log-level"] ?? "info") as LogLevel,
        events: values.events === "json",
        app,
        hotRestart: values["hot-restart"] ?? false,
      });
    case "members":
      return await membersCommand(values.admin, values.json ?? false, {
        loadConfig: () => configOrReport(values.config),
        source: values.config ?? "the embedded default config",
        print: (line) => console.log(line),
        error: stderr,
      });
    case "validate":
      return await validate(positionals);
    case "demo":
      return await runDemo({
        seconds: Number(values.seconds ?? 6),
        concurrency: 8,
        write: (t) => Deno.stdout.writeSync(new TextEncoder().encode(t)),
      });
    case "schema":
      return await schema(values.out);
    case "ca": {
      // Loaded on demand: the X.509 library is not needed to run the sidecar.
      const { caCommand } = await import("./security/ca_command.ts");
      return await caCommand(positionals[0], values, {
        clock: systemClock,
        print: (line) => console.log(line),
        error: stderr,
      });
    }
    default:
      console.error(`skiff: unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
