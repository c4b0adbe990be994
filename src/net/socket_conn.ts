import type { Socket } from "node:net";

/** What a `SocketConn` offers: the part of `Deno.Conn` skiff's codecs and relays use. */
export type ByteConn = Pick<
  Deno.Conn,
  "read" | "write" | "close" | "closeWrite" | "localAddr" | "remoteAddr"
>;

/**
 * A `node:net` or `node:tls` socket seen as a `Deno.Conn`: `read` into a caller's buffer,
 * `write` resolving once the bytes are handed to the kernel, half-close with `closeWrite`.
 * skiff's HTTP/1.1, HTTP/2 and TCP code reads and writes `Deno.Conn`s; this lets the same code
 * run over mutual TLS, which only `node:tls` can do with client certificates (RUNTIME.md).
 *
 * Errors come out as Deno's: a reset is `Deno.errors.ConnectionReset`, a write after the peer
 * went away `Deno.errors.BrokenPipe`, and any use after `close()`
 * `Deno.errors.BadResource`, so callers classify failures the same on either kind of socket.
 */
export class SocketConn implements ByteConn {
  readonly localAddr: Deno.NetAddr;
  readonly remoteAddr: Deno.NetAddr;
  /** The socket underneath (e.g. to read the peer certificate of a TLS socket). */
  readonly socket: Socket;
  /** Bytes received and not yet read, oldest first. */
  readonly #chunks: Uint8Array[] = [];
  #buffered = 0;
  #paused = false;
  #leftover: Uint8Array | null = null;
  #ended = false;
  #error: Error | null = null;
  #closed = false;
  #wake: (() => void) | null = null;

  /**
   * @param socket a connected socket, created with `allowHalfOpen: true` (otherwise Node ends
   *   the write side as soon as the peer's ends); this object takes over its data flow
   */
  constructor(socket: Socket) {
    this.socket = socket;
    this.localAddr = netAddr(socket.localAddress, socket.localPort);
    this.remoteAddr = netAddr(socket.remoteAddress, socket.remotePort);
    const wake = () => {
      const w = this.#wake;
      this.#wake = null;
      w?.();
    };
    // Deno 2.9.6's node:tls loses a peer's end of stream when the socket's own buffer is not
    // drained at once, with pause/resume as much as with read() (measured: a reader a few ms
    // behind never sees 'end'), so bytes are taken as they arrive and queued here. Only past
    // HIGH_WATER_BYTES is the socket paused — bounding memory per connection, at the risk of
    // that lost end, which the tunnel's idle timeout then ends.
    socket.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      if (this.#buffered > HIGH_WATER_BYTES && !this.#paused) {
        this.#paused = true;
        socket.pause();
      }
      wake();
    });
    socket.on("end", () => {
      this.#ended = true;
      wake();
    });
    socket.on("error", (err: Error) => {
      this.#error ??= denoError(err);
      wake();
    });
    socket.on("close", () => {
      this.#ended = true;
      wake();
    });
  }

  /**
   * Reads into `p`.
   *
   * @returns the number of bytes read, or null at the end of the peer's stream
   * @throws the socket's error, as a `Deno.errors` class where one fits
   */
  async read(p: Uint8Array): Promise<number | null> {
    for (;;) {
      if (this.#closed) throw new Deno.errors.BadResource("The connection is closed");
      const chunk = this.#leftover ?? this.#chunks.shift() ?? null;
      if (chunk !== null) {
        const n = Math.min(p.length, chunk.length);
        p.set(chunk.subarray(0, n));
        this.#leftover = n < chunk.length ? chunk.subarray(n) : null;
        this.#buffered -= n;
        if (this.#paused && this.#buffered <= HIGH_WATER_BYTES / 2) {
          this.#paused = false;
          this.socket.resume();
        }
        return n;
      }
      if (this.#error) throw this.#error;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  /**
   * Writes all of `p`; resolves once the socket has taken it (the caller may reuse `p` then).
   *
   * @returns `p.length`
   */
  write(p: Uint8Array): Promise<number> {
    if (this.#closed) {
      return Promise.reject(new Deno.errors.BadResource("The connection is closed"));
    }
    if (this.#error) return Promise.reject(this.#error);
    if (this.socket.writableEnded || this.socket.destroyed) {
      return Promise.reject(new Deno.errors.BrokenPipe("The connection's write side is closed"));
    }
    return new Promise((resolve, reject) => {
      this.socket.write(p, (err) => err ? reject(denoError(err)) : resolve(p.length));
    });
  }

  /** Ends the write side (the peer reads end of stream); reading goes on. */
  closeWrite(): Promise<void> {
    if (this.#closed || this.socket.writableEnded) return Promise.resolve();
    return new Promise((resolve) => this.socket.end(() => resolve()));
  }

  /** Closes both directions at once; a pending `read` rejects with `BadResource`. */
  close(): void {
    if (this.#closed) throw new Deno.errors.BadResource("The connection is already closed");
    this.#closed = true;
    this.socket.destroy();
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }
}

/**
 * Received bytes queued before the socket is paused (flow control towards the peer). Large,
 * because a pause risks Deno 2.9.6 losing the end of stream (see the constructor): at 1 MiB a
 * 16 MiB upload through a mesh hop lost it every time (`deno task bench:mesh`, half-close
 * column); the price is up to this much memory per busy connection.
 */
const HIGH_WATER_BYTES = 16 * 1024 * 1024;

function netAddr(hostname: string | undefined, port: number | undefined): Deno.NetAddr {
  return { transport: "tcp", hostname: hostname ?? "", port: port ?? 0 };
}

/** Maps a Node socket error to the `Deno.errors` class skiff's error handling knows. */
function denoError(err: Error): Error {
  const code = (err as { code?: string }).code;
  const cls = code === "ECONNRESET"
    ? Deno.errors.ConnectionReset
    : code === "EPIPE"
    ? Deno.errors.BrokenPipe
    : code === "ECONNABORTED"
    ? Deno.errors.ConnectionAborted
    : code === "ETIMEDOUT"
    ? Deno.errors.TimedOut
    : undefined;
  return cls ? new cls(err.message, { cause: err }) : err;
}
