import type { AccessLogRecord } from "./access_log_record.ts";
import { formatAccessLogRecord } from "./access_log_record.ts";
import type { AccessLogSink } from "./access_log_sink.ts";

/** Where a `RingAccessLog` puts records: the shape of a shared-memory `Ring`'s producer side. */
export interface RecordProducer {
  /** Appends one record; false when there is no room now. */
  push(type: number, payload: Uint8Array, version?: number): boolean;
  /** Bytes buffered now. */
  readonly used: number;
  /** Size of the ring in bytes. */
  readonly capacity: number;
}

/** Options of `RingAccessLog`. */
export interface RingAccessLogOptions {
  /** Room in the ring that records never take (kept for other kinds of records). Default 0. */
  reserveBytes?: number;
  /** Called once per dropped record (e.g. to count it). */
  onDrop?: (count: number) => void;
}

const encoder = new TextEncoder();

/**
 * The access log of a data-plane Worker: each record is formatted here and pushed, as one
 * JSON line, into the Worker's ring to the main isolate, which writes it to the configured
 * sink. When the ring is full (the main isolate cannot keep up) the record is dropped and
 * counted, never waited for: the request path does not block on logging.
 */
export class RingAccessLog implements AccessLogSink {
  /** Always true. */
  readonly enabled = true;
  readonly #ring: RecordProducer;
  readonly #type: number;
  readonly #onDrop: ((count: number) => void) | undefined;
  readonly #limit: number;
  #dropped = 0;
  #closed = false;

  /**
   * @param ring the Worker's ring to the main isolate
   * @param type the record type that marks access-log lines in that ring
   */
  constructor(ring: RecordProducer, type: number, options: RingAccessLogOptions = {}) {
    this.#ring = ring;
    this.#type = type;
    this.#onDrop = options.onDrop;
    this.#limit = ring.capacity - (options.reserveBytes ?? 0);
  }

  /** Records dropped because the ring was full or the log closed. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Formats `record` and pushes it; drops (and counts) it when there is no room. */
  write(record: AccessLogRecord): void {
    this.writeLine(formatAccessLogRecord(record));
  }

  /** Pushes one formatted line; drops (and counts) it when there is no room. */
  writeLine(line: string): void {
    let ok = false;
    if (!this.#closed && this.#ring.used + line.length + 64 <= this.#limit) {
      try {
        ok = this.#ring.push(this.#type, encoder.encode(line));
      } catch {
        ok = false; // a line longer than a ring record can hold
      }
    }
    if (!ok) {
      this.#dropped++;
      this.#onDrop?.(1);
    }
  }

  /** Nothing is buffered here: a record is in the ring as soon as `write` returns. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** Drops every later record. */
  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}
