/**
 * skiff's command line and composition root: the only module that reads arguments and the
 * environment and picks real adapters.
 *
 * ```
 * skiff run [-c FILE]        run the sidecar (embedded default config without -c)
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
import { formatAddress } from "./config/address.ts";
import type { MembershipEvent } from "./discovery/gossip/swim_node.ts";
import type { MembersView } from "./discovery/member_view.ts";
import type { HostFacts } from "./runtime/membership.ts";
import { Sidecar } from "./runtime/sidecar.ts";
import { WorkerNode } from "./runtime/worker_node.ts";
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

async function run(
  configFile: string | undefined,
  level: LogLevel,
  events: boolean,
): Promise<number> {
  const log = new Logger({ clock: systemClock, sink: stderr, level, fields: { pid: Deno.pid } });
  const config = await configOrReport(configFile);
  if (!config) return 1;
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
  const membership = { host: hostFacts, onEvent: events ? printEvent : undefined };
  const sidecar = workers === 0
    ? new Sidecar(config, { clock: systemClock, rng: mathRng, log, membership })
    : new WorkerNode(config, workers, { clock: systemClock, log, logLevel: level, membership });
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
  skiff run [-c FILE] [--events json]
                               run the sidecar (embedded default config without -c);
                               --events json prints one line per membership change
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

/** Prints the members a running skiff sees, asking its admin API. */
async function members(
  configFile: string | undefined,
  admin: string | undefined,
  asJson: boolean,
): Promise<number> {
  let address = admin;
  if (address === undefined) {
    const config = await configOrReport(configFile);
    if (!config) return 1;
    if (!config.admin) {
      console.error(
        `skiff members: ${configFile ?? "the embedded default config"} has no admin server` +
          " — give its address with --admin HOST:PORT",
      );
      return 1;
    }
    const a = config.admin.address;
    const host = a.hostname === "0.0.0.0" ? "127.0.0.1" : a.hostname === "::" ? "::1" : a.hostname;
    address = formatAddress({ hostname: host, port: a.port });
  }
  let res: Response;
  try {
    res = await fetch(`http://${address}/members`, { signal: AbortSignal.timeout(5000) });
  } catch (err) {
    console.error(
      `skiff members: cannot reach the admin API at ${address} (${(err as Error).message})` +
        " — is skiff running there?",
    );
    return 1;
  }
  const body = await res.text();
  if (!res.ok) {
    console.error(`skiff members: ${address} answered ${res.status}: ${body.trim()}`);
    return 1;
  }
  if (asJson) {
    console.log(body.trimEnd());
    return 0;
  }
  let view: MembersView;
  try {
    view = JSON.parse(body);
  } catch {
    console.error(`skiff members: ${address} did not answer with JSON — is it skiff's admin API?`);
    return 1;
  }
  console.log(formatMembers(view));
  return 0;
}

/** The members as an aligned table, this node marked with `*`. */
function formatMembers(view: MembersView): string {
  const rows = [["NAME", "ADDRESS", "STATE", "INCARNATION", "SERVICES"]];
  for (const m of view.members) {
    rows.push([
      (m.name === view.self ? "* " : "  ") + m.name,
      m.address,
      m.state,
      String(m.incarnation),
      m.services.map((s) => `${s.name}:${s.port}`).join(",") || "-",
    ]);
  }
  rows[0][0] = "  " + rows[0][0];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd());
  return `cluster ${view.cluster}, seen from ${view.self}\n` + lines.join("\n");
}

async function schema(out: string | undefined): Promise<number> {
  const text = JSON.stringify(configJsonSchema(), null, 2) + "\n";
  if (out) await Deno.writeTextFile(out, text);
  else console.log(text);
  return 0;
}

async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
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
      return await run(
        values.config,
        (values["log-level"] ?? "info") as LogLevel,
        values.events === "json",
      );
    case "members":
      return await members(values.config, values.admin, values.json ?? false);
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
