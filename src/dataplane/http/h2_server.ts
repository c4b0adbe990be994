import http2 from "node:http2";
import net from "node:net";
import type { Clock, Logger, TimerWheel } from "../../core/mod.ts";
import { Exchange } from "../exchange.ts";
import { UpstreamError } from "../upstream_error.ts";
import { tunnel } from "../tcp/tunnel.ts";
import { flattenHeaders, H2Body, toHeaderObject } from "./h2_body.ts";
import type { HttpHandler } from "./handler.ts";
import { grpcStatusForFailure, isGrpc } from "./grpc.ts";
import { getHeader, type ProxyRequest, type ProxyResponse } from "./message.ts";

/** Collaborators of the HTTP/2 server. */
export interface H2ServerOptions {
  clock: Clock;
  wheel: TimerWheel;
  log: Logger;
  /** The handler of each listener, by listener name. */
  handlerFor: (listener: string) => HttpHandler;
  /** Idle timeout of an HTTP/2 connection with no open streams, in milliseconds. */
  idleTimeoutMs: number;
}

/** Trailers for a gRPC response whose upstream ended without a status. */
const MISSING_GRPC_STATUS = ["grpc-status", "2", "grpc-message", "upstream sent no grpc-status"];

interface Origin {
  listener: string;
  remote: string;
}

/**
 * skiff's HTTP/2 server (h2c prior knowledge), built on `node:http2` — the runtime API that
 * relays trailers both ways (gRPC). Listeners detect the HTTP/2 preface on their own
 * sockets and hand the connection over through a loopback hop to this server, which knows
 * each hop's real client and listener. Streams are translated to the protocol-independent
 * proxy request and answered through the listener's handler.
 */
export class H2Server {
  readonly #o: H2ServerOptions;
  readonly #server: http2.Http2Server;
  readonly #tcp: net.Server;
  readonly #origins = new Map<number, Origin>();
  #port = 0;

  constructor(opts: H2ServerOptions) {
    this.#o = opts;
    this.#server = http2.createServer({ maxSessionMemory: 64 });
    // Typed explicitly: with the npm @types/node that gRPC packages bring in, the callback's
    // inferred stream type is the base Http2Stream.
    this.#server.on(
      "stream",
      (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) =>
        this.#onStream(stream, headers),
    );
    this.#server.on("sessionError", (err) => opts.log.debug("http2 session error", { err }));
    this.#tcp = net.createServer((socket) => {
      socket.setNoDelay(true);
      this.#server.emit("connection", socket);
    });
  }

  /** Starts the loopback hop. */
  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#tcp.once("error", reject);
      this.#tcp.listen(0, "127.0.0.1", () => resolve());
    });
    this.#port = (this.#tcp.address() as net.AddressInfo).port;
  }

  /** Stops accepting and closes sessions. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#tcp.close(() => resolve()));
    this.#server.close();
  }

  /**
   * Takes over an accepted connection whose first bytes (`leftover`) are the HTTP/2
   * preface; resolves when it ends.
   */
  async accept(
    conn: Deno.TcpConn,
    leftover: Uint8Array,
    remote: string,
    listener: string,
  ): Promise<void> {
    let hop: Deno.TcpConn;
    try {
      hop = await Deno.connect({ hostname: "127.0.0.1", port: this.#port });
      hop.setNoDelay(true);
    } catch (err) {
      this.#o.log.error("http2 hand-off failed", { err });
      conn.close();
      return;
    }
    const key = (hop.localAddr as Deno.NetAddr).port;
    this.#origins.set(key, { listener, remote });
    try {
      await tunnel({ conn, leftover }, { conn: hop, leftover: new Uint8Array(0) }, {
        wheel: this.#o.wheel,
        idleTimeoutMs: 0,
      });
    } finally {
      this.#origins.delete(key);
    }
  }

  #onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    const o = this.#o;
    stream.on("error", (err) => o.log.debug("http2 stream error", { err }));
    const origin = this.#origins.get(stream.session?.socket?.remotePort ?? -1);
    if (!origin) {
      closeStream(stream, http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    const handler = o.handlerFor(origin.listener);
    const ex = new Exchange(origin.listener, origin.remote, o.clock.monotonic(), o.clock.now());
    const method = String(headers[":method"] ?? "GET");
    const path = String(headers[":path"] ?? "/");
    const authority = String(headers[":authority"] ?? headers["host"] ?? "");
    const flat = flattenHeaders(headers as Record<string, string | string[] | undefined>);
    const cl = headers["content-length"];
    const body = stream.endAfterHeaders
      ? null
      : new H2Body(stream, cl === undefined ? -1 : Number(cl));
    ex.protocol = "HTTP/2";
    ex.method = method;
    ex.path = path;
    ex.authority = authority;
    ex.userAgent = String(headers["user-agent"] ?? "");
    const req: ProxyRequest = {
      method,
      path,
      authority,
      scheme: String(headers[":scheme"] ?? "http"),
      headers: flat,
      body,
      protocol: "HTTP/2",
      upgrade: null,
    };
    handler.handle(req, ex)
      .then((res) => this.#respond(stream, res, req, ex))
      .catch((err) => {
        ex.error ||= "downstream_reset";
        o.log.debug("http2 response failed", { err });
        closeStream(stream, http2.constants.NGHTTP2_INTERNAL_ERROR);
      })
      .finally(() => {
        if (body) ex.bytesReceived = body.bytes;
        if (body && !body.done) body.cancel();
        ex.end = o.clock.monotonic();
        handler.finish(ex);
      });
  }

  async #respond(
    stream: http2.ServerHttp2Stream,
    res: ProxyResponse,
    req: ProxyRequest,
    ex: Exchange,
  ): Promise<void> {
    ex.status = res.status;
    if (!usable(stream)) {
      res.body?.cancel();
      ex.error ||= "downstream_reset";
      return;
    }
    const h = toHeaderObject(res.headers, { ":status": String(res.status) });
    if (res.body && res.body.length >= 0) h["content-length"] = String(res.body.length);
    const body = req.method === "HEAD" ? (res.body?.cancel(), null) : res.body;
    if (body === null) {
      stream.respond(h, { endStream: true });
      return;
    }
    // gRPC always ends with trailers. Other responses can carry them only after a body of
    // unknown length (chunked HTTP/1.1, HTTP/2 without content-length); when none come,
    // `sendTrailers({})` ends the stream with an empty DATA frame.
    const grpc = isGrpc(getHeader(res.headers, "content-type"));
    const waitForTrailers = grpc || body.length < 0;
    stream.respond(h, { endStream: false, waitForTrailers });
    // A client that resets the stream ends the upstream response too, even while a read of
    // it is pending (a stream that sends nothing for minutes).
    const onGone = () => body.cancel();
    stream.once("close", onGone);
    let sent = 0;
    try {
      for (let c: Uint8Array | null = body.takeBuffered(); c !== null; c = await body.read()) {
        if (c.length === 0) continue;
        sent += c.length;
        // Copy: the chunk may be a view into a buffer the upstream side reuses.
        if (!usable(stream)) throw new Error("The client reset the HTTP/2 stream");
        if (!stream.write(Buffer.from(c))) await drained(stream);
      }
      if (!usable(stream)) throw new Error("The client reset the HTTP/2 stream");
    } catch (err) {
      ex.bytesSent = sent;
      body.cancel();
      const gone = !usable(stream);
      const reason = err instanceof UpstreamError
        ? err.reason
        : gone
        ? "downstream_reset"
        : "upstream_reset";
      ex.error ||= reason;
      if (gone) return;
      this.#o.log.warn("upstream failed during the response body", {
        err,
        upstream: ex.upstreamHost,
      });
      if (!grpc) {
        closeStream(stream, http2.constants.NGHTTP2_INTERNAL_ERROR);
        return;
      }
      // The head is out: end the call with a status in the trailers rather than a reset.
      const t = {
        "grpc-status": String(grpcStatusForFailure(reason)),
        "grpc-message": encodeURIComponent((err as Error)?.message ?? String(err)),
        "x-skiff-error": reason,
      };
      ex.grpcStatus = t["grpc-status"];
      stream.once("wantTrailers", () => stream.sendTrailers(t));
      await new Promise<void>((resolve) => stream.end(() => resolve()));
      return;
    } finally {
      stream.off("close", onGone);
    }
    ex.bytesSent = sent;
    if (waitForTrailers) {
      let t: Record<string, string | string[]>;
      const upstream = body.trailers();
      if (grpc) {
        t = toHeaderObject(upstream ?? MISSING_GRPC_STATUS);
        if (t["grpc-status"] === undefined) Object.assign(t, toHeaderObject(MISSING_GRPC_STATUS));
        ex.grpcStatus = String(t["grpc-status"]);
      } else {
        t = upstream === null ? {} : toHeaderObject(upstream);
      }
      stream.once("wantTrailers", () => stream.sendTrailers(t));
    }
    await new Promise<void>((resolve) => stream.end(() => resolve()));
  }
}

function drained(stream: http2.ServerHttp2Stream): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      stream.off("close", onClose);
      resolve();
    };
    const onClose = () => {
      stream.off("drain", onDrain);
      reject(new Error("The HTTP/2 stream closed while writing"));
    };
    stream.once("drain", onDrain);
    stream.once("close", onClose);
  });
}

/** True while a stream and its session can still be written to. */
export function usable(stream: http2.Http2Stream): boolean {
  const session = stream.session;
  return !stream.destroyed && !stream.closed && session !== undefined && !session.destroyed &&
    !session.closed;
}

/** Resets a stream if it is still open (a no-op once it or its session is gone). */
export function closeStream(stream: http2.Http2Stream, code: number): void {
  if (usable(stream)) stream.close(code);
}
