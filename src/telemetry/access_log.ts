import type { Clock, Logger } from "../core/mod.ts";
import type { AccessLogSink } from "./access_log_sink.ts";
import { BatchingAccessLog, type ByteWriter } from "./batching_access_log.ts";
import { offAccessLog } from "./off_access_log.ts";
import type { MetricsRegistry } from "./registry.ts";

/** Which access log to create; the shape of the `access_log` config section. */
export interface AccessLogOptions {
  /** `off` (default in config), `stdout`, or `file` (needs `path`). */
  sink: "off" | "stdout" | "file";
  /** File to append to, created if missing (`file` only). */
  path?: string;
  /** A batch is written at most this long after its first record. Default 100 ms. */
  flushIntervalMs?: number;
  /** A batch is written as soon as it holds this many bytes. Default 64 KiB. */
  flushBytes?: number;
  /** Records arriving while this much is buffered are dropped. Default 4 MiB. */
  maxBufferBytes?: number;
}

/** What `createAccessLog` needs from its caller. */
export interface AccessLogDeps {
  /** Schedules batch flushes. */
  clock: Clock;
  /** Receives write failures (once per failure streak). */
  logger: Logger;
  /** When given, dropped records are counted in `skiff_access_log_dropped_records_total`. */
  registry?: MetricsRegistry;
  /** Replaces standard output for the `stdout` sink (tests). */
  stdout?: ByteWriter;
}

/**
 * Creates the access-log sink chosen by `options`. File and stdout sinks batch records and
 * write them asynchronously; the file is opened (append, create) on the first batch, and a
 * file that stops working later shows up as a logged error and dropped records, not as an
 * exception (a start checks the file first with `checkAccessLogFile`).
 *
 * @throws {TypeError} when `sink` is `file` without a `path`, or `sink` is unknown
 *
 * @example
 * ```ts
 * const accessLog = createAccessLog({ sink: "file", path: "/var/log/skiff/access.log" }, {
 *   clock: systemClock,
 *   logger,
 *   registry,
 * });
 * if (accessLog.enabled) accessLog.write(record);
 * await accessLog.close(); // at shutdown
 * ```
 */
export function createAccessLog(options: AccessLogOptions, deps: AccessLogDeps): AccessLogSink {
  const { sink, path, ...tuning } = options;
  if (sink === "off") return offAccessLog;
  const dropped = deps.registry?.counter(
    "skiff_access_log_dropped_records",
    "Access-log records lost because the sink failed, was full or was closed.",
    ["sink"],
  ).labels(sink);
  const common = {
    ...tuning,
    clock: deps.clock,
    logger: deps.logger,
    onDrop: dropped ? (n: number) => dropped.inc(n) : undefined,
  };
  if (sink === "stdout") {
    const out: ByteWriter = deps.stdout ?? { write: (p) => Deno.stdout.write(p) };
    return new BatchingAccessLog({ ...common, target: "stdout", open: () => Promise.resolve(out) });
  }
  if (sink === "file") {
    if (!path) {
      throw new TypeError('Access log sink "file" needs a path; set access_log.path');
    }
    return new BatchingAccessLog({
      ...common,
      target: path,
      open: () => Deno.open(path, { write: true, append: true, create: true }),
    });
  }
  throw new TypeError(
    `Unknown access log sink ${JSON.stringify(sink)}; use "off", "stdout" or "file"`,
  );
}

/**
 * Opens the access log's file once and closes it again, so that a start whose file cannot be
 * written (a missing directory, no permission) is refused at once instead of dropping every
 * record later. Does nothing for the `off` and `stdout` sinks.
 *
 * @throws {Error} naming the file, why it cannot be opened, and the fix
 */
export async function checkAccessLogFile(options: AccessLogOptions): Promise<void> {
  if (options.sink !== "file" || !options.path) return;
  try {
    (await Deno.open(options.path, { write: true, append: true, create: true })).close();
  } catch (err) {
    throw new Error(
      `The access log file ${JSON.stringify(options.path)} cannot be opened for writing (${
        (err as Error).message
      }): create its directory and let skiff write there, or set access_log.path to a ` +
        "writable file (or access_log.sink to stdout)",
      { cause: err },
    );
  }
}
