import { parseArgs } from "node:util";
import { parseAddress } from "../config/mod.ts";
import type { LogLevel } from "../core/mod.ts";
import { COMMANDS, type FlagSpec } from "./commands.ts";

/** What the command line asks skiff to do, its flags checked. */
export type CommandLine =
  | { command: "help" }
  | {
    command: "run";
    /** `-c FILE`; the embedded default config without it. */
    config?: string;
    level: LogLevel;
    /** `--events json`. */
    events: boolean;
    hotRestart: boolean;
    /** The app to run beside skiff (`-- APP ARGS…`). */
    app?: string[];
  }
  | { command: "members"; config?: string; admin?: string; json: boolean }
  | { command: "validate"; files: string[] }
  | { command: "schema"; out?: string }
  | { command: "demo"; seconds: number }
  | { command: "ca"; subcommand: string; options: Record<string, string | undefined> };

/** A command line skiff cannot act on; the process exits 2 with the message and the usage. */
export class UsageError extends Error {
  /** The command whose usage applies; undefined when there is none (the whole usage). */
  readonly command: string | undefined;

  /**
   * @param command the command, when it is known
   * @param problem what is wrong and, where it helps, what is allowed
   */
  constructor(command: string | undefined, problem: string) {
    super(`skiff${command ? ` ${command}` : ""}: ${problem}`);
    this.name = "UsageError";
    this.command = command;
  }
}

/** The log levels `--log-level` takes, least severe first (a record, so none is missed). */
const LOG_LEVELS: Record<LogLevel, true> = { debug: true, info: true, warn: true, error: true };

/** `demo` sends traffic for this long without `--seconds`. */
const DEMO_SECONDS = 6;

/**
 * Parses skiff's command line (the arguments after the program): the command first, then its
 * flags. `--help` or `-h` anywhere before a `--` asks for the usage, as `skiff help` does.
 *
 * @param args the arguments, e.g. `Deno.args`
 * @returns the command and its checked options
 * @throws {UsageError} on an unknown command or flag, a flag another command takes, a bad
 *   value, or missing or unexpected arguments
 * @example
 * ```ts
 * parseCommandLine(["demo", "--seconds", "2.5"]); // { command: "demo", seconds: 2.5 }
 * ```
 */
export function parseCommandLine(args: string[]): CommandLine {
  const [command, ...all] = args;
  const dash = all.indexOf("--");
  const beforeDash = dash >= 0 ? all.slice(0, dash) : all;
  if (
    command === "help" || command === "--help" || command === "-h" ||
    beforeDash.includes("--help") || beforeDash.includes("-h")
  ) return { command: "help" };
  if (command === undefined) throw new UsageError(undefined, "name a command");
  const spec = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!spec) {
    throw new UsageError(
      undefined,
      command.startsWith("-")
        ? `the command comes first, before any flag ("${command}"): skiff COMMAND [FLAGS]`
        : `unknown command "${command}"`,
    );
  }
  // `skiff run … -- APP ARGS…`: everything after the first `--` is the app's.
  const app = spec.args === "app" && dash >= 0 ? all.slice(dash + 1) : undefined;
  const { values, positionals } = parseFlags(command, spec.flags, app ? beforeDash : all);
  checkPositionals(command, spec.args, positionals, app);
  const text = (name: string) => values[name] as string | undefined;
  switch (command) {
    case "run":
      return {
        command,
        config: text("config"),
        level: logLevel(text("log-level")),
        events: events(text("events")),
        hotRestart: values["hot-restart"] === true,
        app,
      };
    case "members":
      return {
        command,
        config: text("config"),
        admin: adminAddress(text("config"), text("admin")),
        json: values.json === true,
      };
    case "validate":
      return { command, files: positionals };
    case "schema":
      return { command, out: text("out") };
    case "demo":
      return { command, seconds: seconds(text("seconds")) };
    case "ca":
      return {
        command,
        subcommand: positionals[0],
        options: values as Record<string, string | undefined>,
      };
    default:
      throw new Error(`command "${command}" has a spec but no parser (bug)`);
  }
}

/** The flags of `command`'s arguments; a flag it does not take is a usage error. */
function parseFlags(
  command: string,
  flags: Readonly<Record<string, FlagSpec>>,
  args: string[],
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const flagName = (name: string, f: FlagSpec) => (f.short ? `-${f.short}/` : "") + `--${name}`;
  const takes = Object.entries(flags).map(([name, f]) => flagName(name, f));
  const options: Record<string, FlagSpec> = { ...flags, help: { type: "boolean", short: "h" } };
  // A first, lenient pass finds the flags the command does not take and the values missing,
  // to say so in skiff's words; the strict pass then catches anything else.
  const { tokens } = parseArgs({ args, options, strict: false, tokens: true });
  for (const t of tokens) {
    if (t.kind !== "option") continue;
    const spec = Object.hasOwn(options, t.name) ? options[t.name] : undefined;
    if (!spec) {
      const others = Object.entries(COMMANDS)
        .filter(([, c]) => Object.hasOwn(c.flags, t.name))
        .map(([name]) => name);
      throw new UsageError(
        command,
        `unknown flag "${t.rawName}"` +
          (others.length > 0
            ? ` (${others.join(" and ")} ${others.length > 1 ? "take" : "takes"} it)`
            : "") +
          (takes.length > 0 ? `; ${command} takes ${takes.join(", ")}` : `; ${command} takes none`),
      );
    }
    const flag = flagName(t.name, spec);
    if (spec.type === "boolean" && t.value !== undefined) {
      throw new UsageError(command, `${flag} takes no value, got "${t.value}"`);
    }
    if (spec.type === "string" && !t.value) {
      throw new UsageError(command, `${flag} needs a value`);
    }
    if (spec.type === "string" && !t.inlineValue && t.value!.startsWith("-")) {
      throw new UsageError(
        command,
        `${flag} needs a value, and "${t.value}" looks like a flag; for a value that starts ` +
          `with "-", write --${t.name}=${t.value}`,
      );
    }
  }
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true }) as typeof parsed;
  } catch (err) {
    throw new UsageError(command, (err as Error).message);
  }
  return parsed;
}

function checkPositionals(
  command: string,
  args: "none" | "files" | "subcommand" | "app",
  positionals: string[],
  app: string[] | undefined,
): void {
  if (args === "files" && positionals.length === 0) {
    throw new UsageError(command, "name at least one config file");
  }
  if (args === "subcommand" && positionals.length === 0) {
    throw new UsageError(command, "name the subcommand: init or issue");
  }
  if (args === "app" && app?.length === 0) {
    throw new UsageError(
      command,
      "name the app after -- — to run an app beside skiff: skiff run -c FILE -- APP [ARGS...]",
    );
  }
  const extra = positionals.slice(
    args === "files" ? positionals.length : args === "subcommand" ? 1 : 0,
  );
  if (extra.length === 0) return;
  const hint = args === "app"
    ? " — to run an app beside skiff: skiff run -c FILE -- APP [ARGS...]"
    : "";
  throw new UsageError(command, `unexpected argument "${extra[0]}"${hint}`);
}

function logLevel(value: string | undefined): LogLevel {
  if (value === undefined) return "info";
  if (Object.hasOwn(LOG_LEVELS, value)) return value as LogLevel;
  const levels = Object.keys(LOG_LEVELS);
  throw new UsageError(
    "run",
    `--log-level takes ${levels.slice(0, -1).join(", ")} or ${levels.at(-1)}, got "${value}"`,
  );
}

function events(value: string | undefined): boolean {
  if (value === undefined) return false;
  if (value === "json") return true;
  throw new UsageError("run", `--events takes "json", got "${value}"`);
}

function adminAddress(config: string | undefined, admin: string | undefined): string | undefined {
  if (admin === undefined) return undefined;
  if (config !== undefined) {
    throw new UsageError("members", "give -c FILE or --admin HOST:PORT, not both");
  }
  if (!parseAddress(admin)) {
    throw new UsageError(
      "members",
      `--admin takes HOST:PORT with a port from 1 to 65535 (e.g. 127.0.0.1:9901), got "${admin}"`,
    );
  }
  return admin;
}

/** `--seconds`: a plain decimal number greater than 0. */
function seconds(value: string | undefined): number {
  if (value === undefined) return DEMO_SECONDS;
  const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (n > 0) return n;
  throw new UsageError(
    "demo",
    `--seconds takes a number of seconds greater than 0, such as 6 or 2.5, got "${value}"`,
  );
}
