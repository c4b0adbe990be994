import { Drain, TimerWheel, VirtualClock } from "../../../src/core/mod.ts";
import type { Body } from "../../../src/dataplane/http/body.ts";
import type { HttpHandler } from "../../../src/dataplane/http/handler.ts";
import type { ProxyRequest, ProxyResponse } from "../../../src/dataplane/http/message.ts";
import { within } from "../../_harness/mod.ts";

/** A request a test handler received, answered when the test calls `respond`. */
export interface Pending {
  req: ProxyRequest;
  respond(res: ProxyResponse): void;
}

/** A response body the test feeds chunk by chunk. */
export class FedBody implements Body {
  readonly length: number;
  done = false;
  #chunks: Uint8Array[] = [];
  #ended = false;
  #waiter: (() => void) | null = null;

  /** @param length the body's length, or -1 when unknown (chunked) */
  constructor(length = -1) {
    this.length = length;
  }

  push(chunk: Uint8Array | null): void {
    if (chunk === null) this.#ended = true;
    else this.#chunks.push(chunk);
    this.#waiter?.();
    this.#waiter = null;
  }

  takeBuffered(): Uint8Array {
    return new Uint8Array(0);
  }

  async read(): Promise<Uint8Array | null> {
    while (this.#chunks.length === 0 && !this.#ended) {
      await new Promise<void>((r) => this.#waiter = r);
    }
    const c = this.#chunks.shift() ?? null;
    if (c === null) this.done = true;
    return c;
  }

  trailers(): string[] | null {
    return null;
  }

  cancel(): void {
    this.push(null);
  }
}

/**
 * A server on loopback whose handler hands each request to the test (`next()`), on virtual
 * time, with a `Drain` the test starts. `serve` runs one of skiff's protocol servers on each
 * accepted connection with `handler`, `clock`, `wheel` and `drain`.
 */
export class HandOffServer {
  readonly clock = new VirtualClock();
  readonly wheel = new TimerWheel(this.clock, 10);
  readonly drain = new Drain();
  /** Paths of every request the handler got, in order. */
  readonly seen: string[] = [];
  readonly port: number;
  readonly #listener: Deno.Listener;
  readonly #serving: Promise<void>[] = [];
  readonly #accepting: Promise<void>;
  #pending: Pending[] = [];
  #waiters: ((p: Pending) => void)[] = [];
  #finished = 0;
  #finishWaiters: (() => void)[] = [];
  #acceptWaiters: (() => void)[] = [];

  /** The handler the protocol server calls: requests go to `next()`. */
  readonly handler: HttpHandler = {
    handle: (req) =>
      new Promise<ProxyResponse>((respond) => {
        this.seen.push(req.path);
        const p = { req, respond };
        const w = this.#waiters.shift();
        if (w) w(p);
        else this.#pending.push(p);
      }),
    finish: () => {
      this.#finished++;
      for (const w of this.#finishWaiters.splice(0)) w();
    },
  };

  /** @param serve serves one accepted connection until it ends */
  constructor(serve: (conn: Deno.Conn, server: HandOffServer) => Promise<void>) {
    const listener = this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = (listener.addr as Deno.NetAddr).port;
    this.#accepting = (async () => {
      for await (const conn of listener) {
        this.#serving.push(serve(conn, this));
        for (const w of this.#acceptWaiters.splice(0)) w();
      }
    })().catch(() => {});
  }

  /** Resolves once `n` connections are being served. */
  served(n: number): Promise<void> {
    return within(
      `${n} connections served`,
      new Promise<void>((resolve) => {
        const check = () => this.#serving.length >= n ? resolve() : this.#acceptWaiters.push(check);
        check();
      }),
    );
  }

  /** The next request the handler receives. */
  next(): Promise<Pending> {
    const p = this.#pending.shift();
    if (p) return Promise.resolve(p);
    return within("a request at the handler", new Promise((r) => this.#waiters.push(r)));
  }

  /**
   * Resolves once `n` exchanges have finished. An HTTP/1.1 server goes back to waiting for the
   * next request head synchronously after `finish`, so by then the connection is idle.
   */
  finished(n: number): Promise<void> {
    if (this.#finished >= n) return Promise.resolve();
    return within(
      `${n} finished exchanges`,
      new Promise<void>((resolve) => {
        const check = () => this.#finished >= n ? resolve() : this.#finishWaiters.push(check);
        this.#finishWaiters.push(check);
      }),
    );
  }

  async close(): Promise<void> {
    this.#listener.close();
    await this.#accepting;
    await within("server connections to end", Promise.all(this.#serving));
    this.wheel.clear();
  }
}
