import { ViewCache } from "../core/view_cache.ts";
import { directRead } from "./direct_ops.ts";

/**
 * A buffered reader over a `Deno.Conn` (or anything with `read`), owning one growable
 * buffer. Parsers look at `buf[start, end)` directly and call `consume()`; `fill()` reads
 * more. A read can be started ahead of time with `prefetch()` (used to notice an idle
 * pooled connection being closed) and the next `fill()` picks it up.
 */
export class ConnReader {
  buf: Uint8Array;
  start = 0;
  end = 0;
  /** Total bytes read from the connection. */
  bytesRead = 0;
  #pending: Promise<number> | null = null;
  /** Reads into `p`: bytes read, 0 or null at end of stream. */
  readonly #read: (p: Uint8Array) => Promise<number | null>;
  readonly #views = new ViewCache();

  /**
   * @param reader the connection to read from
   * @param size initial buffer size in bytes
   */
  constructor(reader: { read(p: Uint8Array): Promise<number | null> }, size = 16 * 1024) {
    // A Deno socket is read with the runtime's operation itself (see `direct_ops.ts`).
    this.#read = directRead(reader) ?? ((p) => reader.read(p));
    this.buf = new Uint8Array(size);
  }

  /** Number of buffered, unconsumed bytes. */
  get available(): number {
    return this.end - this.start;
  }

  /** True while a read is in flight. */
  get reading(): boolean {
    return this.#pending !== null;
  }

  /** Marks `n` buffered bytes as consumed. */
  consume(n: number): void {
    this.start += n;
    if (this.start === this.end) this.start = this.end = 0;
  }

  /** Takes every buffered byte as a copy-free view (valid until the next `fill`). */
  take(max = Infinity): Uint8Array {
    const n = Math.min(max, this.end - this.start);
    const view = this.#views.view(this.buf, this.start, this.start + n);
    this.consume(n);
    return view;
  }

  /** Puts bytes back in front of the buffered data (protocol detection, upgrades). */
  unshift(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const rest = this.buf.slice(this.start, this.end);
    this.#ensure(bytes.length + rest.length);
    this.buf.set(bytes, 0);
    this.buf.set(rest, bytes.length);
    this.start = 0;
    this.end = bytes.length + rest.length;
  }

  /**
   * Starts a read now (if none is in flight) without waiting for it; the next `fill()`
   * takes its result. The returned promise settles when that read does.
   */
  prefetch(): Promise<number> {
    return this.#pending ?? this.#begin(this.buf.length);
  }

  /**
   * Reads more bytes into the buffer, growing it up to `maxBytes` of unconsumed data.
   *
   * @returns the number of bytes added, or 0 at end of stream
   * @throws {RangeError} when `maxBytes` are already buffered (as a rejection)
   */
  fill(maxBytes: number = this.buf.length): Promise<number> {
    if (this.#pending) return this.#pending;
    try {
      return this.#begin(maxBytes);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #begin(maxBytes: number): Promise<number> {
    this.#makeRoom(maxBytes);
    const buf = this.buf;
    const at = this.end;
    this.#readBuf = buf;
    this.#readAt = at;
    // `then` with handlers made once per reader: one derived promise per read, no async
    // function frame.
    let read: Promise<number | null>;
    try {
      read = this.#read(at === 0 ? buf : buf.subarray(at));
    } catch (err) {
      this.#readBuf = null;
      return Promise.reject(err);
    }
    const p = read.then(this.#onRead, this.#onReadError);
    this.#pending = p;
    return p;
  }

  // The buffer and offset of the read in flight (at most one at a time).
  #readBuf: Uint8Array | null = null;
  #readAt = 0;

  readonly #onRead = (n: number | null): number => {
    // Cleared when the read completes, not when someone awaits it: a caller may use the
    // bytes (already in the buffer) without ever calling fill().
    this.#pending = null;
    const buf = this.#readBuf!;
    this.#readBuf = null;
    if (n === null || n === 0) return 0;
    const at = this.#readAt;
    // Taking every buffered byte while the read was in flight resets `end` to 0 (and
    // `unshift` may swap the buffer): the new bytes must follow what is buffered now.
    if (buf !== this.buf || at !== this.end) this.#relocate(buf.subarray(at, at + n));
    this.end += n;
    this.bytesRead += n;
    return n;
  };

  readonly #onReadError = (err: unknown): never => {
    this.#pending = null;
    this.#readBuf = null;
    throw err;
  };

  #makeRoom(maxBytes: number): void {
    if (this.start === this.end) this.start = this.end = 0;
    if (this.end < this.buf.length) return;
    const used = this.end - this.start;
    if (used >= maxBytes) throw new RangeError(`Buffered data exceeds ${maxBytes} bytes`);
    if (this.start > 0 && used < this.buf.length / 2) {
      this.buf.copyWithin(0, this.start, this.end);
      this.end = used;
      this.start = 0;
    } else this.#ensure(Math.min(maxBytes, this.buf.length * 2));
  }

  #relocate(data: Uint8Array): void {
    if (this.buf.length - this.end < data.length) this.#ensure(this.available + data.length);
    this.buf.set(data, this.end); // `set` copies correctly when both share one buffer
  }

  #ensure(size: number): void {
    if (this.buf.length >= size && this.start === 0) return;
    const bigger = new Uint8Array(Math.max(size, this.buf.length));
    bigger.set(this.buf.subarray(this.start, this.end));
    this.end -= this.start;
    this.start = 0;
    this.buf = bigger;
  }
}

/** Writes all of `data` (Deno's `write` may write part of it). */
export async function writeAll(
  writer: { write(p: Uint8Array): Promise<number> },
  data: Uint8Array,
): Promise<void> {
  let off = 0;
  while (off < data.length) off += await writer.write(off === 0 ? data : data.subarray(off));
}
