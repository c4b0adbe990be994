import { TimeoutError } from "../core/abort.ts";
import type { Clock, Timer } from "../core/clock.ts";
import { ConnReader, writeAll } from "./conn_reader.ts";
import type { MessageStream } from "./transport.ts";

/** Bytes of the big-endian length in front of every frame. */
const HEADER = 4;
/** Frames read ahead of `receive()` calls before reading pauses (back-pressure). */
const READ_AHEAD = 8;

interface Waiter {
  resolve(m: Uint8Array | null): void;
  reject(err: Error): void;
  timer: Timer | null;
}

/**
 * A `MessageStream` over one TCP connection: each message is a frame of a 4-byte big-endian
 * length and the bytes. Frames above `maxMessageBytes` are refused both ways (a peer that
 * announces one fails the stream). Reads run ahead of `receive()` by a few frames.
 */
export class FramedStream implements MessageStream {
  readonly #conn: Deno.Conn;
  readonly #reader: ConnReader;
  readonly #clock: Clock;
  readonly #max: number;
  /** The limit of the next frame read: `firstMax` for the first one, then `#max`. */
  #nextMax: number;
  readonly #queue: Uint8Array[] = [];
  readonly #waiters: Waiter[] = [];
  #writes: Promise<void> = Promise.resolve();
  #pump: Promise<void> | null = null;
  #ended = false;
  #closed = false;
  #error: Error | null = null;
  #done: Promise<void> | null = null;
  readonly #onClose: (() => void) | undefined;

  /**
   * @param conn the connection; the stream owns and closes it
   * @param clock times `receive` deadlines
   * @param maxMessageBytes the largest frame accepted or sent
   * @param onClose called once when `close()` is first called
   * @param firstMax the largest first frame accepted from the peer (an accepted stream's
   *   hello: a stranger must not make us buffer a full-size frame before it says who it is)
   */
  constructor(
    conn: Deno.Conn,
    clock: Clock,
    maxMessageBytes: number,
    onClose?: () => void,
    firstMax = maxMessageBytes,
  ) {
    this.#conn = conn;
    this.#onClose = onClose;
    this.#reader = new ConnReader(conn, 16 * 1024);
    this.#clock = clock;
    this.#max = maxMessageBytes;
    this.#nextMax = Math.min(firstMax, maxMessageBytes);
  }

  /** Writes `message` as one frame; rejects once the stream failed or was closed. */
  send(message: Uint8Array): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#closed) {
      return Promise.reject(new Error("The stream is closed; open a new one with connect()"));
    }
    if (message.length > this.#max) {
      return Promise.reject(
        new RangeError(
          `Stream message of ${message.length} bytes exceeds the limit of ${this.#max}; split it or raise maxMessageBytes on both ends`,
        ),
      );
    }
    const frame = new Uint8Array(HEADER + message.length);
    new DataView(frame.buffer).setUint32(0, message.length);
    frame.set(message, HEADER);
    const write = this.#writes.then(async () => {
      if (this.#error) throw this.#error;
      try {
        await writeAll(this.#conn, frame);
      } catch (err) {
        throw this.#fail(wrap("Writing to the stream failed", err));
      }
    });
    this.#writes = write.catch(() => {});
    return write;
  }

  /** The next message, null once the peer closed, or a `TimeoutError` after `timeoutMs`. */
  receive(timeoutMs: number): Promise<Uint8Array | null> {
    if (this.#queue.length > 0) {
      const m = this.#queue.shift()!;
      this.#startPump();
      return Promise.resolve(m);
    }
    if (this.#error) return Promise.reject(this.#error);
    if (this.#closed || this.#ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: null };
      waiter.timer = this.#clock.setTimer(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new TimeoutError("stream receive timeout", timeoutMs));
      }, timeoutMs);
      this.#waiters.push(waiter);
      this.#startPump();
    });
  }

  /** Closes the connection once queued writes are out; pending receives get null. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose?.();
    this.#settle(null);
    this.#done = this.#writes.then(() => {
      try {
        this.#conn.close();
      } catch {
        // Already closed by a failed read or write: nothing left to release.
      }
      return this.#pump ?? undefined;
    });
  }

  /** Settles once `close()` released the connection (resolves at once before `close()`). */
  closed(): Promise<void> {
    return this.#done ?? Promise.resolve();
  }

  #startPump(): void {
    if (this.#pump || this.#ended || this.#error || this.#closed) return;
    this.#pump = this.#run().finally(() => this.#pump = null);
  }

  async #run(): Promise<void> {
    try {
      while (!this.#closed && (this.#waiters.length > 0 || this.#queue.length < READ_AHEAD)) {
        const m = await this.#readFrame();
        if (this.#closed) return;
        if (m === null) {
          this.#ended = true;
          this.#settle(null);
          return;
        }
        const w = this.#waiters.shift();
        if (w) {
          w.timer?.cancel();
          w.resolve(m);
        } else this.#queue.push(m);
      }
    } catch (err) {
      if (!this.#closed) this.#fail(wrap("Reading from the stream failed", err));
    }
  }

  async #readFrame(): Promise<Uint8Array | null> {
    const r = this.#reader;
    while (r.available < HEADER) {
      if (await r.fill() === 0) {
        if (r.available === 0) return null;
        throw new Error(`The peer closed the stream in the middle of a frame header`);
      }
    }
    const len = new DataView(r.buf.buffer, r.buf.byteOffset + r.start, HEADER).getUint32(0);
    const max = this.#nextMax;
    if (len > max) {
      throw new RangeError(
        max < this.#max
          ? `The peer's first frame announces ${len} bytes, above the ${max} a first frame may have (a hello names the peer's host:port)`
          : `The peer sent a frame of ${len} bytes, above the limit of ${max}; raise maxMessageBytes on both ends if that is legitimate`,
      );
    }
    this.#nextMax = this.#max;
    while (r.available < HEADER + len) {
      if (await r.fill(HEADER + len) === 0) {
        throw new Error(`The peer closed the stream in the middle of a ${len}-byte frame`);
      }
    }
    const m = r.buf.slice(r.start + HEADER, r.start + HEADER + len);
    r.consume(HEADER + len);
    return m;
  }

  #fail(err: Error): Error {
    if (this.#error) return this.#error;
    this.#error = err;
    this.#queue.length = 0;
    this.#settle(err);
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
    return err;
  }

  #settle(outcome: Error | null): void {
    for (const w of this.#waiters.splice(0)) {
      w.timer?.cancel();
      if (outcome) w.reject(outcome);
      else w.resolve(null);
    }
  }
}

function wrap(what: string, err: unknown): Error {
  if (err instanceof RangeError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new Error(`${what}: ${msg}; open a new stream`, { cause: err });
}
