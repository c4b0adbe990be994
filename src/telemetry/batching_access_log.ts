import type { Clock, Logger, Timer } from "../core/mod.ts";
import { type AccessLogRecord, formatAccessLogRecord } from "./access_log_record.ts";
import type { AccessLogSink } from "./access_log_sink.ts";

/** The part of `Deno.FsFile` / `Deno.stdout` a batching sink writes to. */
export interface ByteWriter {
  /** Writes some of `p`, resolving to the number of bytes written. */
  write(p: Uint8Array): Promise<number>;
  /** Releases the destination (absent for stdout, which is never closed). */
  close?(): void;
}

/** Options of `BatchingAccessLog`. */
export interface BatchingAccessLogOptions {
  /** Opens the destination; called lazily, and again after a failure. */
  open: () => Promise<ByteWriter>;
  /** Names the destination in log messages, e.g. the file path or `stdout`. */
  target: string;
  /** Schedules periodic flushes. */
  clock: Clock;
  /** Receives one message when writes start failing and one when they work again. */
  logger: Logger;
  /** A batch is written at most this long after its first record. Default 100 ms. */
  flushIntervalMs?: number;
  /** A batch is written as soon as it holds this many bytes. Default 64 KiB. */
  flushBytes?: number;
  /** Records arriving while this much is buffered are dropped. Default 4 MiB. */
  maxBufferBytes?: number;
  /** Called with the number of records dropped each time some are (e.g. to count them). */
  onDrop?: (count: number) => void;
}

const encoder = new TextEncoder();

/**
 * An access-log sink that serialises records to JSON lines and writes them in batches: one
 * `write` per `flushIntervalMs` or per `flushBytes`, never one per record, with at most one
 * write in flight. When the destination cannot be opened or written, the batch is dropped and
 * counted, the failure is logged once, and the next batch tries again (reopening).
 */
export class BatchingAccessLog implements AccessLogSink {
  /** Always true. */
  readonly enabled = true;
  readonly #opts: Required<Omit<BatchingAccessLogOptions, "onDrop">>;
  readonly #onDrop: ((count: number) => void) | undefined;
  #lines: string[] = [];
  #bytes = 0;
  #due = false;
  #timer: Timer | undefined;
  #inflight: Promise<void> | undefined;
  #writer: ByteWriter | undefined;
  #dropped = 0;
  #failing = false;
  #overflowing = false;
  #closing: Promise<void> | undefined;

  /** Creates the sink; nothing is opened before the first batch. */
  constructor(options: BatchingAccessLogOptions) {
    this.#opts = {
      ...options,
      flushIntervalMs: options.flushIntervalMs ?? 100,
      flushBytes: options.flushBytes ?? 64 * 1024,
      maxBufferBytes: options.maxBufferBytes ?? 4 * 1024 * 1024,
    };
    this.#onDrop = options.onDrop;
  }

  /** Records lost so far. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Serialises and buffers one record; drops it when closed or when the buffer is full. */
  write(record: AccessLogRecord): void {
    if (this.#closing) return this.#drop(1);
    this.writeLine(formatAccessLogRecord(record));
  }

  /** Buffers one formatted record; drops it when closed or when the buffer is full. */
  writeLine(line: string): void {
    if (this.#closing) return this.#drop(1);
    if (this.#bytes + line.length + 1 > this.#opts.maxBufferBytes) {
      if (!this.#overflowing) {
        this.#overflowing = true;
        this.#opts.logger.warn("access log buffer full; dropping records", {
          target: this.#opts.target,
          buffered_bytes: this.#bytes,
        });
      }
      return this.#drop(1);
    }
    this.#lines.push(line);
    this.#bytes += line.length + 1;
    if (this.#bytes >= this.#opts.flushBytes) {
      this.#due = true;
      this.#kick();
    } else if (!this.#timer && !this.#due) {
      this.#timer = this.#opts.clock.setTimer(() => {
        this.#timer = undefined;
        this.#due = true;
        this.#kick();
      }, this.#opts.flushIntervalMs);
    }
  }

  /** Writes everything buffered now. */
  async flush(): Promise<void> {
    this.#due = true;
    this.#kick();
    while (this.#inflight) await this.#inflight;
  }

  /** Flushes, then closes the destination. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await this.flush();
    const writer = this.#writer;
    this.#writer = undefined;
    try {
      writer?.close?.();
    } catch (err) {
      this.#opts.logger.warn("closing the access log failed", {
        target: this.#opts.target,
        error: err,
      });
    }
  }

  #kick(): void {
    if (this.#inflight) return;
    const run = this.#drain();
    this.#inflight = run;
    run.then(() => {
      if (this.#inflight === run) this.#inflight = undefined;
    });
  }

  // Writes batches while one is due; never rejects.
  async #drain(): Promise<void> {
    while (this.#due && this.#lines.length > 0) {
      this.#due = false;
      this.#timer?.cancel();
      this.#timer = undefined;
      const lines = this.#lines;
      this.#lines = [];
      this.#bytes = 0;
      this.#overflowing = false;
      await this.#writeBatch(lines);
    }
    this.#due = false;
  }

  async #writeBatch(lines: string[]): Promise<void> {
    const data = encoder.encode(lines.join("\n") + "\n");
    try {
      this.#writer ??= await this.#opts.open();
      await writeAll(this.#writer, data);
    } catch (err) {
      this.#drop(lines.length);
      if (!this.#failing) {
        this.#failing = true;
        this.#opts.logger.error("access log write failed; dropping records until it works", {
          target: this.#opts.target,
          error: err,
        });
      }
      this.#discardWriter();
      return;
    }
    if (this.#failing) {
      this.#failing = false;
      this.#opts.logger.info("access log writes work again", {
        target: this.#opts.target,
        dropped_total: this.#dropped,
      });
    }
  }

  // After a failed write the destination is reopened for the next batch.
  #discardWriter(): void {
    const writer = this.#writer;
    this.#writer = undefined;
    try {
      writer?.close?.();
    } catch {
      // The write already failed and was logged; a second error from close adds nothing.
    }
  }

  #drop(count: number): void {
    this.#dropped += count;
    this.#onDrop?.(count);
  }
}

async function writeAll(writer: ByteWriter, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const n = await writer.write(data.subarray(offset));
    if (n <= 0) throw new Error(`Write made no progress after ${offset} bytes`);
    offset += n;
  }
}
