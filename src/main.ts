/**
 * skiff's command line and composition root: the only module that reads arguments and the
 * environment and picks real adapters.
 *
 * ```
 * skiff run [-c FILE]        run the sidecar (embedded default config without -c)
 * skiff validate FILE...     check config files, print every problem, exit 1 on any
 * skiff schema [--out FILE]  print the JSON Schema of the config file (for editors)
 * skiff demo                 start sample upstreams and skiff, send traffic, print a summary
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { ConfigError, configJsonSchema, defaultConfig, loadConfigFile } from "./config/mod.ts";
import { Logger, type LogLevel, mathRng, systemClock } from "./core/mod.ts";
import { Sidecar } from "./runtime/sidecar.ts";
import { WorkerNode } from "./runtime/worker_node.ts";
import { runDemo } from "./demo/mod.ts";

const stderr = (line: string) => console.error(line);

async function run(configFile: string | undefined, level: LogLevel): Promise<number> {
  const log = new Logger({ clock: systemClock, sink: stderr, level, fields: { pid: Deno.pid } });
  let config;
  try {
    config = configFile ? await loadConfigFile(configFile) : defaultConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    return 1;
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
  const workers = config.workers === "auto" ? navigator.hardwareConcurrency : config.workers;
  const sidecar = workers === 0
    ? new Sidecar(config, { clock: systemClock, rng: mathRng, log })
    : new WorkerNode(config, workers, { clock: systemClock, log, logLevel: level });
  try {
    await sidecar.start();
  } catch (err) {
    log.error("cannot start", { err, config: configFile ?? "(embedded default)" });
    return 1;
  }
  log.info("skiff started", { config: configFile ?? "(embedded default)", workers });
  const stopped = Promise.withResolvers<void>();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return; // a second signal (e.g. to the whole process group) changes nothing
    stopping = true;
    log.info("shutting down", { signal });
    sidecar.stop().finally(() => stopped.resolve());
  };
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  await stopped.promise;
  return 0;
}

const USAGE = `usage:
  skiff run [-c FILE]          run the sidecar (embedded default config without -c)
  skiff validate FILE...       check config files; prints every problem, exits 1 on any
  skiff schema [--out FILE]    print the JSON Schema of the config file
  skiff demo                   run a demo mesh on the embedded default config`;

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
  const [command, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      config: { type: "string", short: "c" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
      "log-level": { type: "string" },
      seconds: { type: "string" },
    },
  });
  if (values.help || command === undefined || command === "help") {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  switch (command) {
    case "run":
      return await run(values.config, (values["log-level"] ?? "info") as LogLevel);
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
    default:
      console.error(`skiff: unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
