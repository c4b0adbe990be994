import type { AccessLogRecord } from "./access_log_record.ts";

/**
 * Where access-log records go. `write()` is called on the request path, so implementations
 * buffer and never block, throw or write synchronously per record.
 */
export interface AccessLogSink {
  /** False for the `off` sink: callers check it to skip building records at all. */
  readonly enabled: boolean;
  /** Records lost so far (write failures, full buffer, writes after close). */
  readonly dropped: number;
  /** Queues one record; never throws. */
  write(record: AccessLogRecord): void;
  /**
   * Queues one record already formatted as a JSON line (without the newline), as a
   * data-plane Worker sends it to the main isolate; never throws.
   */
  writeLine(line: string): void;
  /** Resolves once every record queued before the call has been written or dropped. */
  flush(): Promise<void>;
  /** Flushes, then releases the destination; later writes are dropped. Idempotent. */
  close(): Promise<void>;
}
