import { concatBytes } from "../../src/core/mod.ts";

/** One HTTP/1.x response read off a raw connection. */
export interface RawResponse {
  status: number;
  /** The head as received, up to and including the blank line. */
  head: string;
  /** Header fields with lower-cased names, in arrival order. */
  fields: [string, string][];
  /** The body bytes (decoded when chunked). */
  body: Uint8Array<ArrayBuffer>;
  /** Trailer fields of a chunked body, lower-cased names, in arrival order. */
  trailers: [string, string][];
  /** The first value of field `name`, or `undefined`. */
  header(name: string): string | undefined;
  /** The body as UTF-8 text. */
  text(): string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A raw TCP client (or an accepted server-side connection) with a read buffer, for tests
 * that must control or see the exact bytes on the wire. Every read has a deadline: when it
 * passes, the connection is closed and the read throws, so a test never hangs.
 *
 * @example
 * ```ts
 * await using c = await RawConn.connect(port);
 * await c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
 * const res = await c.readResponse();
 * ```
 */
export class RawConn {
  readonly conn: Deno.Conn;
  #buf: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  #eof = false;
  #closed = false;

  constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  /** Connects to `hostname:port` on loopback. */
  static async connect(port: number, hostname = "127.0.0.1"): Promise<RawConn> {
    return new RawConn(await Deno.connect({ hostname, port }));
  }

  /** Bytes received but not read yet. */
  get buffered(): Uint8Array<ArrayBuffer> {
    return this.#buf;
  }

  /** Writes all of `data` (text is sent as UTF-8). */
  async send(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    let off = 0;
    while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
  }

  /** Half-closes: the peer reads end of stream, this side can still read. */
  async closeWrite(): Promise<void> {
    await (this.conn as Deno.TcpConn).closeWrite();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /**
   * Reads more bytes into the buffer. Returns false at end of stream; a reset by the peer
   * also counts as end of stream (`reset` is then true).
   *
   * @throws {Error} when `timeoutMs` passes first (the connection is closed)
   */
  async #fill(timeoutMs: number): Promise<boolean> {
    if (this.#eof) return false;
    const chunk = new Uint8Array(64 * 1024);
    const n = await readWithin(this.conn, chunk, timeoutMs, "bytes", () => this.close());
    if (n === "reset") this.reset = true;
    if (n === null || n === "reset") {
      this.#eof = true;
      return false;
    }
    const next = new Uint8Array(this.#buf.length + n);
    next.set(this.#buf);
    next.set(chunk.subarray(0, n), this.#buf.length);
    this.#buf = next;
    return true;
  }

  /** True once the peer reset the connection (a read failed with ECONNRESET). */
  reset = false;

  #take(n: number): Uint8Array<ArrayBuffer> {
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  /**
   * Reads until `marker` has arrived and returns everything up to and including it.
   *
   * @throws {Error} on end of stream before the marker, or at the deadline
   */
  async readUntil(
    marker: string | Uint8Array,
    timeoutMs = 10_000,
  ): Promise<Uint8Array<ArrayBuffer>> {
    const m = typeof marker === "string" ? encoder.encode(marker) : marker;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = indexOf(this.#buf, m);
      if (at >= 0) return this.#take(at + m.length);
      if (!(await this.#fill(Math.max(1, deadline - Date.now())))) {
        throw new Error(
          `The connection ended before ${JSON.stringify(decoder.decode(m))}; got ` +
            JSON.stringify(decoder.decode(this.#buf).slice(0, 200)),
        );
      }
    }
  }

  /** Reads exactly `n` bytes. @throws {Error} on end of stream first, or at the deadline */
  async readExactly(n: number, timeoutMs = 10_000): Promise<Uint8Array<ArrayBuffer>> {
    const deadline = Date.now() + timeoutMs;
    while (this.#buf.length < n) {
      if (!(await this.#fill(Math.max(1, deadline - Date.now())))) {
        throw new Error(`The connection ended after ${this.#buf.length} of ${n} bytes`);
      }
    }
    return this.#take(n);
  }

  /** Reads until the peer closes (or resets) the connection; returns every byte left. */
  async readToEnd(timeoutMs = 10_000): Promise<Uint8Array<ArrayBuffer>> {
    const deadline = Date.now() + timeoutMs;
    while (await this.#fill(Math.max(1, deadline - Date.now()))) { /* more */ }
    return this.#take(this.#buf.length);
  }

  /**
   * Reads one HTTP/1.x response. The body is delimited by Content-Length, chunked coding,
   * or the end of the stream; `noBody` (responses to HEAD) reads the head only, as do 1xx,
   * 204 and 304 responses.
   */
  async readResponse(opts: { noBody?: boolean; timeoutMs?: number } = {}): Promise<RawResponse> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const head = decoder.decode(await this.readUntil("\r\n\r\n", timeoutMs));
    const lines = head.slice(0, -4).split("\r\n");
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
    if (!status) throw new Error(`Not an HTTP response: ${JSON.stringify(lines[0])}`);
    const fields: [string, string][] = lines.slice(1).map((l) => {
      const i = l.indexOf(":");
      return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()];
    });
    const get = (name: string) => fields.find(([k]) => k === name)?.[1];
    const code = Number(status[1]);
    let body = new Uint8Array(0);
    const trailers: [string, string][] = [];
    if (!(opts.noBody || code < 200 || code === 204 || code === 304)) {
      const length = get("content-length");
      if (get("transfer-encoding")?.toLowerCase() === "chunked") {
        body = await this.#readChunked(timeoutMs, trailers);
      } else if (length !== undefined) body = await this.readExactly(Number(length), timeoutMs);
      else body = await this.readToEnd(timeoutMs);
    }
    return {
      status: code,
      head,
      fields,
      body,
      trailers,
      header: get,
      text: () => decoder.decode(body),
    };
  }

  async #readChunked(
    timeoutMs: number,
    trailers: [string, string][],
  ): Promise<Uint8Array<ArrayBuffer>> {
    const parts: Uint8Array[] = [];
    for (;;) {
      const line = decoder.decode(await this.readUntil("\r\n", timeoutMs)).trim();
      const size = parseInt(line, 16);
      if (size === 0) {
        // Trailer section up to the blank line.
        for (;;) {
          const field = decoder.decode(await this.readUntil("\r\n", timeoutMs)).slice(0, -2);
          if (field === "") return concatBytes(parts);
          const i = field.indexOf(":");
          trailers.push([field.slice(0, i).toLowerCase(), field.slice(i + 1).trim()]);
        }
      }
      parts.push(await this.readExactly(size, timeoutMs));
      await this.readExactly(2, timeoutMs);
    }
  }
}

/**
 * One read from `conn` into `buf` with a deadline: when neither bytes nor the end of the
 * stream arrive within `timeoutMs`, `onTimeout` runs (it should close the connection) and
 * the read fails.
 *
 * @returns the number of bytes read, `null` at the end of the stream, or `"reset"` when the
 *   peer reset the connection
 * @throws {Error} naming `what` when the deadline passed first; any other read error
 */
export async function readWithin(
  conn: Deno.Conn,
  buf: Uint8Array,
  timeoutMs: number,
  what: string,
  onTimeout: () => void,
): Promise<number | null | "reset"> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    onTimeout();
  }, timeoutMs);
  let n: number | null | "reset";
  try {
    n = await conn.read(buf);
  } catch (err) {
    if (!timedOut && !(err instanceof Deno.errors.ConnectionReset)) throw err;
    n = "reset";
  } finally {
    clearTimeout(timer);
  }
  if (timedOut) throw new Error(`No ${what} from the peer within ${timeoutMs} ms`);
  return n;
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
