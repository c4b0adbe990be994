import type { Cancel, Logger, TimerWheel } from "../../core/mod.ts";
import { formatAddress, type SocketAddress } from "../../config/address.ts";
import { type Connector, connectWithTimeout } from "../../net/connect.ts";
import type { Body } from "../http/body.ts";
import { appendH2Fields, H2Body } from "../http/h2_body.ts";
import { isGrpc } from "../http/grpc.ts";
import { getHeader, type ProxyRequest, type ProxyResponse } from "../http/message.ts";
import { ErrorCode, H2StreamError } from "../http2/frame.ts";
import { H2Connection, type H2ConnectionOptions } from "../http2/h2_connection.ts";
import type { H2Stream } from "../http2/h2_stream.ts";
import { UpstreamError } from "../upstream_error.ts";
import type { ExchangeTiming } from "./h1_connection.ts";
import { connectError, type PoolLimits } from "./h1_pool.ts";
import type { ConnectionBudget } from "./connection_budget.ts";

/** What an HTTP/2 pool needs from its surroundings. */
export interface H2PoolDeps {
  wheel: TimerWheel;
  now: () => number;
  log: Logger;
  connect?: Connector;
  /**
   * Opens a connection some other way than plain TCP (a mutual-TLS mesh hop), within the
   * connect timeout; `connect` is then unused.
   */
  dial?: (addr: SocketAddress, timeoutMs: number) => Promise<H2ConnectionOptions["conn"]>;
  onConnections?: (delta: number) => void;
  /** The cluster's limit on connections (`limits.max_connections`), shared by its pools. */
  budget?: ConnectionBudget;
}

/**
 * HTTP/2 (h2c prior knowledge) connections to one endpoint, on skiff's own HTTP/2 client:
 * requests are multiplexed on the first connection with room under the peer's
 * `MAX_CONCURRENT_STREAMS`; more connections open up to `maxConnections`. Trailers are
 * relayed (gRPC). A connection that fails or receives GOAWAY takes no new streams; its open
 * streams finish on their own.
 */
export class H2Pool {
  readonly #addr: SocketAddress;
  readonly #limits: PoolLimits;
  readonly #deps: H2PoolDeps;
  #conns: H2Connection[] = [];
  #connecting: Promise<H2Connection> | null = null;
  #closed = false;

  constructor(addr: SocketAddress, limits: PoolLimits, deps: H2PoolDeps) {
    this.#addr = addr;
    this.#limits = limits;
    this.#deps = deps;
  }

  get open(): number {
    return this.#conns.length;
  }

  get idle(): number {
    return this.#conns.filter((c) => c.activeStreams === 0).length;
  }

  get pending(): number {
    return 0;
  }

  close(): void {
    this.#closed = true;
    for (const c of this.#conns) c.shutdown();
  }

  /**
   * Sends a request on a stream and resolves with the response head.
   *
   * @throws {UpstreamError} `connect_failure`/`connect_timeout`, `upstream_reset` (stream
   * reset or connection failure before the response head; `staleReuse` when the upstream
   * refused the stream unprocessed), `overflow` when every connection is full
   */
  async request(req: ProxyRequest, timing: ExchangeTiming, cancel: Cancel): Promise<ProxyResponse> {
    const conn = await this.#connection(timing);
    if (cancel.cancelled) throw cancel.reason;
    const h = appendH2Fields([
      ":method",
      req.method,
      ":scheme",
      "http",
      ":authority",
      req.authority,
      ":path",
      req.path,
    ], req.headers);
    if (isGrpc(getHeader(req.headers, "content-type"))) h.push("te", "trailers");
    if (req.body && req.body.length >= 0) h.push("content-length", String(req.body.length));
    let stream: H2Stream;
    try {
      stream = conn.request(h, req.body === null);
    } catch (err) {
      throw failure(err);
    }
    cancel.onCancel(() => stream.reset(ErrorCode.CANCEL));
    try {
      // The body goes out while we wait for the head, not before: a streaming call (gRPC
      // bidi) gets its response head, and first messages, before the request ends.
      if (req.body) {
        sendBody(stream, req.body).catch(() => stream.reset(ErrorCode.CANCEL));
      }
      const head = await stream.head();
      timing.upstreamFirstByte = this.#deps.now();
      const status = Number(head[1]);
      const headers: string[] = [];
      for (let i = 2; i < head.length; i += 2) {
        const name = head[i];
        if (name !== "content-length" || req.method === "HEAD" || status === 304) {
          headers.push(name, head[i + 1]);
        }
      }
      const cl = getHeader(head, "content-length");
      // Ended already, but with trailers still to relay (gRPC: a head, then the status) → a body.
      const ended = (stream.readDone && stream.trailers === null) || req.method === "HEAD" ||
        status === 204 || status === 304;
      return {
        status,
        headers,
        body: ended ? null : new H2Body(stream, cl === undefined ? -1 : Number(cl)),
      };
    } catch (err) {
      stream.reset(ErrorCode.CANCEL);
      throw failure(err);
    } finally {
      cancel.onCancel(null);
    }
  }

  async #connection(timing: ExchangeTiming): Promise<H2Connection> {
    for (const c of this.#conns) {
      if (c.available) {
        timing.connectMs = -1;
        return c;
      }
    }
    if (this.#closed) {
      throw new UpstreamError(
        "no_healthy_upstream",
        `Endpoint ${formatAddress(this.#addr)} was removed`,
      );
    }
    if (this.#connecting) return await this.#connecting;
    if (this.#conns.length >= this.#limits.maxConnections) {
      throw new UpstreamError(
        "overflow",
        `Every HTTP/2 connection to ${formatAddress(this.#addr)} is full`,
      );
    }
    if (this.#deps.budget !== undefined && !this.#deps.budget.canOpen()) {
      throw new UpstreamError(
        "overflow",
        `The cluster of ${formatAddress(this.#addr)} is at its limits.max_connections`,
      );
    }
    const started = this.#deps.now();
    this.#connecting = this.#connect();
    try {
      const c = await this.#connecting;
      timing.connectMs = this.#deps.now() - started;
      return c;
    } finally {
      this.#connecting = null;
    }
  }

  async #connect(): Promise<H2Connection> {
    const label = formatAddress(this.#addr);
    const budget = this.#deps.budget;
    let sock: H2ConnectionOptions["conn"];
    budget?.opened();
    try {
      const d = this.#deps;
      sock = d.dial
        ? await d.dial(this.#addr, this.#limits.connectTimeoutMs)
        : await connectWithTimeout(this.#addr, this.#limits.connectTimeoutMs, d.wheel, d.connect);
    } catch (err) {
      budget?.closed();
      throw connectError(err, label);
    }
    const conn = new H2Connection({
      role: "client",
      conn: sock,
      wheel: this.#deps.wheel,
      log: this.#deps.log,
      idleTimeoutMs: this.#limits.idleTimeoutMs,
    });
    this.#conns.push(conn);
    this.#deps.onConnections?.(1);
    conn.run().finally(() => {
      const i = this.#conns.indexOf(conn);
      if (i >= 0) this.#conns.splice(i, 1);
      this.#deps.onConnections?.(-1);
      budget?.closed();
    });
    return conn;
  }
}

async function sendBody(stream: H2Stream, body: Body): Promise<void> {
  for (let c: Uint8Array | null = body.takeBuffered(); c !== null; c = await body.read()) {
    if (c.length > 0) await stream.write(c);
  }
  const trailers = body.trailers();
  if (trailers && trailers.length > 0) stream.sendHeaders(appendH2Fields([], trailers), true);
  else await stream.end();
}

function failure(err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (err instanceof H2StreamError) {
    return new UpstreamError("upstream_reset", err.message, {
      cause: err,
      staleReuse: err.code === ErrorCode.REFUSED_STREAM,
    });
  }
  return new UpstreamError("upstream_reset", `HTTP/2 stream failed: ${(err as Error)?.message}`, {
    cause: err,
  });
}
