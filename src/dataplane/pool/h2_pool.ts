import http2 from "node:http2";
import { type Cancel, TimeoutError, type TimerWheel } from "../../core/mod.ts";
import { formatAddress, type SocketAddress } from "../../config/address.ts";
import type { Body } from "../http/body.ts";
import { flattenHeaders, H2Body, toHeaderObject } from "../http/h2_body.ts";
import { isGrpc } from "../http/grpc.ts";
import { getHeader, type ProxyRequest, type ProxyResponse } from "../http/message.ts";
import { UpstreamError } from "../upstream_error.ts";
import type { ExchangeTiming } from "./h1_connection.ts";
import { connectError, type PoolLimits } from "./h1_pool.ts";

interface Session {
  session: http2.ClientHttp2Session;
  streams: number;
}

/** What an HTTP/2 pool needs from its surroundings. */
export interface H2PoolDeps {
  wheel: TimerWheel;
  now: () => number;
  onConnections?: (delta: number) => void;
}

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM } = http2.constants;

/**
 * HTTP/2 (h2c prior knowledge) sessions to one endpoint: requests are multiplexed on the
 * first session with room under the peer's `MAX_CONCURRENT_STREAMS`; further sessions open
 * up to `maxConnections`. Trailers are relayed (gRPC). A session that fails or receives
 * GOAWAY is retired; its open streams finish or fail on their own.
 */
export class H2Pool {
  readonly #addr: SocketAddress;
  readonly #limits: PoolLimits;
  readonly #deps: H2PoolDeps;
  #sessions: Session[] = [];
  #connecting: Promise<Session> | null = null;
  #closed = false;

  constructor(addr: SocketAddress, limits: PoolLimits, deps: H2PoolDeps) {
    this.#addr = addr;
    this.#limits = limits;
    this.#deps = deps;
  }

  get open(): number {
    return this.#sessions.length;
  }

  get idle(): number {
    return this.#sessions.filter((s) => s.streams === 0).length;
  }

  get pending(): number {
    return 0;
  }

  close(): void {
    this.#closed = true;
    for (const s of this.#sessions) s.session.close();
  }

  /**
   * Sends a request on a stream and resolves with the response head.
   *
   * @throws {UpstreamError} `connect_failure`/`connect_timeout`, `upstream_reset` (stream
   * reset or session failure before the response head), `overflow` when every session is
   * full
   */
  async request(
    req: ProxyRequest,
    timing: ExchangeTiming,
    cancel: Cancel,
  ): Promise<ProxyResponse> {
    const s = await this.#session(timing);
    if (cancel.cancelled) throw cancel.reason;
    const h = toHeaderObject(req.headers, {
      ":method": req.method,
      ":path": req.path,
      ":authority": req.authority,
      ":scheme": "http",
    });
    if (isGrpc(getHeader(req.headers, "content-type"))) h["te"] = "trailers";
    if (req.body && req.body.length >= 0) h["content-length"] = String(req.body.length);
    let stream: http2.ClientHttp2Stream;
    try {
      stream = s.session.request(h, { endStream: req.body === null });
    } catch (err) {
      this.#retire(s);
      throw new UpstreamError(
        "upstream_reset",
        `HTTP/2 request failed: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    s.streams++;
    stream.once("close", () => {
      s.streams--;
    });
    // Trailers can follow the response head in the same tick, before the awaited head
    // resumes this function and the body starts listening: keep them here.
    let early: string[] | null = null;
    stream.once("trailers", (t) => {
      early = flattenHeaders(t as Record<string, string | string[] | undefined>);
    });
    cancel.onCancel(() => {
      if (!stream.destroyed) stream.close(NGHTTP2_CANCEL);
    });
    try {
      let endStream = false;
      const head = new Promise<http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader>(
        (resolve, reject) => {
          stream.once("response", (headers, flags) => {
            endStream = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
            resolve(headers);
          });
          stream.once("error", (err) => reject(err));
          stream.once("close", () =>
            reject(
              new UpstreamError(
                "upstream_reset",
                `The upstream reset the stream (code ${stream.rstCode})`,
                { staleReuse: stream.rstCode === NGHTTP2_REFUSED_STREAM },
              ),
            ));
        },
      );
      head.catch(() => {});
      // The body is sent while waiting for the head, not before it: a streaming call (gRPC
      // bidi) gets its response head, and first messages, before the request ends.
      if (req.body) {
        writeBody(stream, req.body).catch(() => {
          if (!stream.destroyed) stream.close(NGHTTP2_CANCEL);
        });
      }
      const headers = await head;
      timing.upstreamFirstByte = this.#deps.now();
      const status = Number(headers[":status"]);
      const flat = flattenHeaders(headers as Record<string, string | string[] | undefined>);
      const cl = headers["content-length"];
      if (req.method === "HEAD" && cl !== undefined) flat.push("content-length", String(cl));
      const ended = endStream || stream.endAfterHeaders || req.method === "HEAD" ||
        status === 204 ||
        status === 304;
      return {
        status,
        headers: flat,
        body: ended ? null : new H2Body(stream, cl === undefined ? -1 : Number(cl), early),
      };
    } catch (err) {
      if (!stream.destroyed) stream.close(NGHTTP2_CANCEL);
      if (err instanceof UpstreamError) throw err;
      throw new UpstreamError("upstream_reset", `HTTP/2 stream failed: ${(err as Error).message}`, {
        cause: err,
      });
    } finally {
      cancel.onCancel(null);
    }
  }

  async #session(timing: ExchangeTiming): Promise<Session> {
    for (const s of this.#sessions) {
      const max = s.session.remoteSettings?.maxConcurrentStreams ?? 100;
      if (!s.session.destroyed && !s.session.closed && s.streams < max) {
        timing.connectMs = -1;
        return s;
      }
    }
    if (this.#closed) {
      throw new UpstreamError(
        "no_healthy_upstream",
        `Endpoint ${formatAddress(this.#addr)} was removed`,
      );
    }
    if (this.#connecting) return await this.#connecting;
    if (this.#sessions.length >= this.#limits.maxConnections) {
      throw new UpstreamError(
        "overflow",
        `Every HTTP/2 session to ${formatAddress(this.#addr)} is full`,
      );
    }
    const started = this.#deps.now();
    this.#connecting = this.#connect();
    try {
      const s = await this.#connecting;
      timing.connectMs = this.#deps.now() - started;
      return s;
    } finally {
      this.#connecting = null;
    }
  }

  #connect(): Promise<Session> {
    const label = formatAddress(this.#addr);
    return new Promise<Session>((resolve, reject) => {
      const session = http2.connect(`http://${label}`);
      const timer = this.#deps.wheel.schedule(this.#limits.connectTimeoutMs, () => {
        session.destroy();
        reject(
          connectError(new TimeoutError("connect timeout", this.#limits.connectTimeoutMs), label),
        );
      });
      session.once("connect", () => {
        timer.cancel();
        const s: Session = { session, streams: 0 };
        this.#sessions.push(s);
        this.#deps.onConnections?.(1);
        session.setTimeout(this.#limits.idleTimeoutMs, () => {
          if (s.streams === 0) session.close();
        });
        session.once("close", () => this.#retire(s));
        session.once("goaway", () => this.#retire(s));
        resolve(s);
      });
      session.once("error", (err) => {
        timer.cancel();
        reject(connectError(err, label));
      });
    });
  }

  #retire(s: Session): void {
    const i = this.#sessions.indexOf(s);
    if (i < 0) return;
    this.#sessions.splice(i, 1);
    this.#deps.onConnections?.(-1);
    if (s.streams === 0) s.session.close();
  }
}

async function writeBody(stream: http2.ClientHttp2Stream, body: Body): Promise<void> {
  for (let c: Uint8Array | null = body.takeBuffered(); c !== null; c = await body.read()) {
    if (c.length === 0) continue;
    if (!stream.write(Buffer.from(c))) {
      await new Promise<void>((resolve, reject) => {
        // Both listeners go when either fires: a long body waits for many drains.
        const onDrain = () => {
          stream.off("close", onClose);
          resolve();
        };
        const onClose = () => {
          stream.off("drain", onDrain);
          reject(new Error("The HTTP/2 stream closed while sending"));
        };
        stream.once("drain", onDrain);
        stream.once("close", onClose);
      });
    }
  }
  await new Promise<void>((resolve) => stream.end(() => resolve()));
}
