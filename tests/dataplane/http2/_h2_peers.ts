/**
 * Helpers for the HTTP/2 connection tests: a server built directly on `H2Connection` over
 * real loopback TCP, a client connection to it, and a raw frame-level client that writes
 * exact bytes and parses what comes back. Every read has a deadline.
 * @module
 */
import { concatBytes, silentLogger, systemClock, TimerWheel } from "../../../src/core/mod.ts";
import { readWithin } from "../../_harness/mod.ts";
import {
  FRAME_HEADER,
  FrameType,
  PREFACE,
  readU31,
  readU32,
  writeFrameHeader,
} from "../../../src/dataplane/http2/frame.ts";
import { H2Connection, type H2Settings } from "../../../src/dataplane/http2/h2_connection.ts";
import type { H2Stream } from "../../../src/dataplane/http2/h2_stream.ts";
import { HpackDecoder } from "../../../src/dataplane/http2/hpack_decoder.ts";
import { HpackEncoder } from "../../../src/dataplane/http2/hpack_encoder.ts";
import { within } from "../../_harness/wait.ts";

/** Deadline for anything a test waits on. */
export const DEADLINE_MS = 20_000;

export { within };

/** Reads a stream's body to the end. */
export async function readAll(stream: H2Stream): Promise<Uint8Array<ArrayBuffer>> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for (let c = await stream.read(); c !== null; c = await stream.read()) {
    parts.push(c.slice());
    n += c.length;
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Writes `data` in chunks of `chunk` bytes, then ends the stream (with trailers if given). */
export async function writeAll(
  stream: H2Stream,
  data: Uint8Array,
  trailers: string[] | null = null,
  chunk = 100_000,
): Promise<void> {
  for (let at = 0; at < data.length; at += chunk) {
    await stream.write(data.subarray(at, Math.min(data.length, at + chunk)));
  }
  if (trailers) stream.sendHeaders(trailers, true);
  else await stream.end();
}

/** What a test server is built from. */
export interface ServerOptions {
  settings?: Partial<H2Settings>;
  onStream?: (stream: H2Stream, conn: H2Connection) => void;
  /** Without it the connection resets malformed requests with PROTOCOL_ERROR. */
  onMalformed?: (stream: H2Stream, reason: string) => void;
  idleTimeoutMs?: number;
}

/** A listening HTTP/2 server on loopback, one `H2Connection` per accepted socket. */
export interface TestServer {
  port: number;
  wheel: TimerWheel;
  /** Server connections accepted so far, in order. */
  conns: H2Connection[];
  /** Resolves with the next connection accepted after the call. */
  nextConn(): Promise<H2Connection>;
  /** Stops listening, closes every connection and waits for them. */
  close(): Promise<void>;
}

/** A request handler that echoes: 200, the request body back, request trailers mirrored. */
export async function echo(stream: H2Stream): Promise<void> {
  const body = await readAll(stream);
  stream.sendHeaders([":status", "200", "x-len", String(body.length)], false);
  await writeAll(stream, body, stream.trailers ? [...stream.trailers] : null);
}

/** Starts a server; `onStream` defaults to {@link echo} (errors reset the stream). */
export function startServer(o: ServerOptions = {}): TestServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const wheel = new TimerWheel(systemClock, 10);
  const log = silentLogger(systemClock);
  const conns: H2Connection[] = [];
  const runs: Promise<void>[] = [];
  let waiters: ((c: H2Connection) => void)[] = [];
  const onStream = o.onStream ?? ((s: H2Stream) => {
    echo(s).catch(() => s.reset());
  });
  const accepting = (async () => {
    for await (const sock of listener) {
      sock.setNoDelay(true); // as skiff's listeners do
      const conn: H2Connection = new H2Connection({
        role: "server",
        conn: sock,
        wheel,
        log,
        settings: o.settings,
        idleTimeoutMs: o.idleTimeoutMs,
        onStream: (s) => onStream(s, conn),
        onMalformed: o.onMalformed,
      });
      conns.push(conn);
      runs.push(conn.run());
      for (const w of waiters) w(conn);
      waiters = [];
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    wheel,
    conns,
    nextConn: () => new Promise((resolve) => waiters.push(resolve)),
    async close() {
      listener.close();
      await accepting;
      for (const c of conns) c.close();
      await within("server connections to end", Promise.all(runs));
      wheel.clear();
    },
  };
}

/** A client `H2Connection` to `port`, running. */
export interface TestClient {
  h2: H2Connection;
  wheel: TimerWheel;
  /** The run loop (resolves when the connection ends). */
  run: Promise<void>;
  close(): Promise<void>;
}

/** Connects a client `H2Connection` to a server on loopback. */
export async function connectClient(
  port: number,
  settings: Partial<H2Settings> = {},
  idleTimeoutMs = 0,
): Promise<TestClient> {
  const sock = await Deno.connect({ hostname: "127.0.0.1", port });
  sock.setNoDelay(true); // as skiff's upstream connections do
  const wheel = new TimerWheel(systemClock, 10);
  const h2 = new H2Connection({
    role: "client",
    conn: sock,
    wheel,
    log: silentLogger(systemClock),
    settings,
    idleTimeoutMs,
  });
  const run = h2.run();
  return {
    h2,
    wheel,
    run,
    async close() {
      h2.close();
      await within("client connection to end", run);
      wheel.clear();
    },
  };
}

/** A GET request head for `path`. */
export function get(path: string): string[] {
  return [":method", "GET", ":scheme", "http", ":authority", "test", ":path", path];
}

/** A POST request head for `path`. */
export function post(path: string, extra: string[] = []): string[] {
  return [":method", "POST", ":scheme", "http", ":authority", "test", ":path", path, ...extra];
}

// ---- raw frames --------------------------------------------------------------------------

/** One frame as received. */
export interface Frame {
  type: number;
  flags: number;
  id: number;
  payload: Uint8Array;
}

/** Encodes one frame. */
export function frame(
  type: number,
  flags: number,
  id: number,
  payload: ArrayLike<number> = [],
): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER + payload.length);
  writeFrameHeader(out, 0, payload.length, type, flags, id);
  out.set(payload, FRAME_HEADER);
  return out;
}

/** A big-endian 32-bit value as 4 octets. */
export function u32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

/** Joins byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  return concatBytes(parts);
}

/** A GOAWAY as received. */
export interface GoAway {
  last: number;
  code: number;
  debug: string;
}

/**
 * A raw HTTP/2 client: writes exact bytes, parses frames back, keeps an HPACK encoder and
 * decoder in step with the server's.
 */
export class RawH2 {
  readonly conn: Deno.Conn;
  readonly encoder = new HpackEncoder();
  readonly decoder = new HpackDecoder();
  #buf: Uint8Array = new Uint8Array(0);
  #eof = false;

  /** Wraps a connected socket (either end: a raw server takes an accepted one). */
  constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  static async connect(port: number): Promise<RawH2> {
    return new RawH2(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Server side: reads the client's 24-octet preface. */
  async readPreface(timeoutMs = DEADLINE_MS): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs;
    while (this.#buf.length < PREFACE.length) {
      if (this.#eof) throw new Error("The connection ended before the preface");
      await this.#fill(deadline - Date.now());
    }
    const p = this.#buf.slice(0, PREFACE.length);
    this.#buf = this.#buf.subarray(PREFACE.length);
    return p;
  }

  /** Writes bytes; false when the peer has already closed or reset the connection. */
  async send(...parts: Uint8Array[]): Promise<boolean> {
    const bytes = concat(...parts);
    try {
      for (let off = 0; off < bytes.length;) off += await this.conn.write(bytes.subarray(off));
      return true;
    } catch (err) {
      if (err instanceof Deno.errors.BrokenPipe || err instanceof Deno.errors.ConnectionReset) {
        return false;
      }
      throw err;
    }
  }

  /** The client preface and an empty SETTINGS frame. */
  preface(): Promise<boolean> {
    return this.send(PREFACE, frame(FrameType.SETTINGS, 0, 0));
  }

  /** A HEADERS frame carrying `fields` (END_HEADERS always; END_STREAM when `end`). */
  headers(id: number, fields: string[], end = true): Uint8Array {
    const block = this.encoder.encode(fields);
    return frame(FrameType.HEADERS, 0x4 | (end ? 0x1 : 0), id, block);
  }

  /** The next frame, or `null` once the peer closed (or reset) the connection. */
  async next(timeoutMs = DEADLINE_MS): Promise<Frame | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#buf.length >= FRAME_HEADER) {
        const b = this.#buf;
        const length = (b[0] << 16) | (b[1] << 8) | b[2];
        if (b.length >= FRAME_HEADER + length) {
          const f = {
            type: b[3],
            flags: b[4],
            id: readU31(b, 5),
            payload: b.slice(FRAME_HEADER, FRAME_HEADER + length),
          };
          this.#buf = b.subarray(FRAME_HEADER + length);
          return f;
        }
      }
      if (this.#eof) return null;
      await this.#fill(deadline - Date.now());
    }
  }

  /** Reads frames until one matches; throws if the connection ends first. */
  async until(what: string, match: (f: Frame) => boolean, timeoutMs = DEADLINE_MS) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = await this.next(Math.max(1, deadline - Date.now()));
      if (f === null) throw new Error(`The connection ended before ${what}`);
      if (f.type === FrameType.HEADERS) this.#decode(f);
      if (match(f)) return f;
    }
  }

  /** Reads until a GOAWAY, then expects the connection to close. */
  async goaway(): Promise<GoAway> {
    const f = await this.until("GOAWAY", (f) => f.type === FrameType.GOAWAY);
    const g = {
      last: readU31(f.payload, 0),
      code: readU32(f.payload, 4),
      debug: new TextDecoder().decode(f.payload.subarray(8)),
    };
    await this.closed();
    return g;
  }

  /** Reads (and drops) frames until the peer closes the connection. */
  async closed(timeoutMs = DEADLINE_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.next(Math.max(1, deadline - Date.now()))) !== null) { /* drain */ }
  }

  /** Reads until the RST_STREAM of stream `id`; returns its code. */
  async rst(id: number): Promise<number> {
    const f = await this.until(
      `RST_STREAM on stream ${id}`,
      (f) => f.type === FrameType.RST_STREAM && f.id === id,
    );
    return readU32(f.payload, 0);
  }

  /** Reads until the response HEADERS of stream `id`; returns its decoded fields. */
  async response(id: number): Promise<string[]> {
    const f = await this.until(
      `HEADERS on stream ${id}`,
      (f) => f.type === FrameType.HEADERS && f.id === id,
    );
    return this.#fields.get(f)!;
  }

  #fields = new WeakMap<Frame, string[]>();

  #decode(f: Frame): void {
    let s = 0;
    let e = f.payload.length;
    if (f.flags & 0x8) {
      s += 1;
      e -= f.payload[0];
    }
    if (f.flags & 0x20) s += 5;
    this.#fields.set(f, this.decoder.decode(f.payload, s, e));
  }

  async #fill(timeoutMs: number): Promise<void> {
    if (timeoutMs <= 0) throw new Error("No frame from the peer before the deadline");
    const chunk = new Uint8Array(64 * 1024);
    const n = await readWithin(this.conn, chunk, timeoutMs, "frame", () => this.close());
    if (n === null || n === "reset") { // a reset counts as the end of the stream
      this.#eof = true;
      return;
    }
    this.#buf = concat(this.#buf, chunk.subarray(0, n));
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }
}
