import { CA_USAGE } from "../security/ca_usage.ts";

/** A flag as `node:util`'s `parseArgs` takes it. */
export interface FlagSpec {
  type: "string" | "boolean";
  short?: string;
}

/** One command of skiff's command line: the flags it takes, its arguments, its usage lines. */
export interface CommandSpec {
  /** Every flag the command takes (`--help`/`-h` aside, which every command takes). */
  flags: Readonly<Record<string, FlagSpec>>;
  /**
   * The positional arguments: `none`, `files` (one or more), `subcommand` (exactly one), or
   * `app` (none, but everything after `--` is the app to run beside skiff).
   */
  args: "none" | "files" | "subcommand" | "app";
  /** Its lines of the usage text, indented by two spaces. */
  usage: string;
}

const config: FlagSpec = { type: "string", short: "c" };
const out: FlagSpec = { type: "string" };

/**
 * The commands skiff takes, in the order the usage text lists them. The parser accepts a flag
 * for a command only when its entry names it, and the usage text is built from the same
 * entries, so that both list the same flags.
 */
export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  run: {
    flags: {
      config,
      "log-level": { type: "string" },
      events: { type: "string" },
      "hot-restart": { type: "boolean" },
    },
    args: "app",
    usage: `  skiff run [-c FILE] [--log-level debug|info|warn|error] [--events json]
            [--hot-restart] [-- APP [ARGS...]]
                               run the sidecar (embedded default config without -c);
                               --log-level: log lines of this level and above (default
                               info); --events json prints one line per membership change.
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
                               it to drain, take its admin port`,
  },
  members: {
    flags: { config, admin: { type: "string" }, json: { type: "boolean" } },
    args: "none",
    usage: `  skiff members [-c FILE | --admin HOST:PORT] [--json]
                               the gossip members a running skiff sees (from its admin API)`,
  },
  validate: {
    flags: {},
    args: "files",
    usage:
      "  skiff validate FILE...       check config files; prints every problem, exits 1 on any",
  },
  schema: {
    flags: { out },
    args: "none",
    usage: "  skiff schema [--out FILE]    print the JSON Schema of the config file",
  },
  demo: {
    flags: { seconds: { type: "string" } },
    args: "none",
    usage: `  skiff demo [--seconds N]     run a demo mesh on the embedded default config, sending
                               traffic for N seconds (default 6; more than 0, e.g. 2.5)`,
  },
  ca: {
    flags: {
      out,
      ca: { type: "string" },
      "trust-domain": { type: "string" },
      ttl: { type: "string" },
      "spiffe-id": { type: "string" },
      "not-before": { type: "string" },
    },
    args: "subcommand",
    usage: CA_USAGE,
  },
  help: {
    flags: {},
    args: "none",
    usage: "  skiff help | --help | -h     print this text",
  },
};

/**
 * The usage text: of every command, or of `command` alone when it is one of `COMMANDS`.
 *
 * @example
 * ```ts
 * console.error(`skiff demo: --seconds takes a number\n${usage("demo")}`);
 * ```
 */
export function usage(command?: string): string {
  const spec = command === undefined ? undefined : COMMANDS[command];
  const lines = spec ? [spec.usage] : Object.values(COMMANDS).map((c) => c.usage);
  return `usage:\n${lines.join("\n")}`;
}
