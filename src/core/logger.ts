import type { Clock } from "./clock.ts";

/** Severity of a log record, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Extra structured fields attached to a log record. */
export type LogFields = Record<string, unknown>;

/** Where finished log lines go (one JSON object per line, without the newline). */
export type LogSink = (line: string) => void;

/**
 * A structured logger writing one JSON object per line: `{"ts", "level", "msg", ...fields}`.
 *
 * @example
 * ```ts
 * const log = new Logger({ clock: systemClock, sink: console.log, level: "info" });
 * log.info("listener bound", { address: "127.0.0.1:10000" });
 * ```
 */
export class Logger {
  readonly #clock: Clock;
  readonly #sink: LogSink;
  readonly #min: number;
  readonly #base: LogFields;

  /** Creates a logger; `fields` are added to every record. */
  constructor(opts: { clock: Clock; sink: LogSink; level?: LogLevel; fields?: LogFields }) {
    this.#clock = opts.clock;
    this.#sink = opts.sink;
    this.#min = LEVELS[opts.level ?? "info"];
    this.#base = opts.fields ?? {};
  }

  /** A logger that adds `fields` to every record of this one. */
  child(fields: LogFields): Logger {
    return new Logger({
      clock: this.#clock,
      sink: this.#sink,
      level: levelName(this.#min),
      fields: { ...this.#base, ...fields },
    });
  }

  /** True when records at `level` are written (use it to skip building costly fields). */
  enabled(level: LogLevel): boolean {
    return LEVELS[level] >= this.#min;
  }

  debug(msg: string, fields?: LogFields): void {
    this.#write("debug", msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.#write("info", msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.#write("warn", msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.#write("error", msg, fields);
  }

  #write(level: LogLevel, msg: string, fields?: LogFields): void {
    if (LEVELS[level] < this.#min) return;
    const record = {
      ts: new Date(this.#clock.now()).toISOString(),
      level,
      msg,
      ...this.#base,
      ...fields,
    };
    this.#sink(JSON.stringify(record, errorReplacer));
  }
}

function levelName(n: number): LogLevel {
  return (Object.keys(LEVELS) as LogLevel[]).find((k) => LEVELS[k] === n) ?? "info";
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  return value;
}

/** A logger that discards everything (for tests and benchmarks). */
export function silentLogger(clock: Clock): Logger {
  return new Logger({ clock, sink: () => {}, level: "error" });
}
