import type { Clock, Drain, Logger, TimerWheel } from "../../core/mod.ts";
import type { ConnReader } from "../../net/conn_reader.ts";
import { Exchange, type PeerIdentity } from "../exchange.ts";
import { ErrorCode } from "../http2/frame.ts";
import { H2Connection, type H2Settings } from "../http2/h2_connection.ts";
import type { H2Stream } from "../http2/h2_stream.ts";
import { UpstreamError } from "../upstream_error.ts";
import { appendH2Fields, H2Body, splitPseudo } from "./h2_body.ts";
import type { HttpHandler } from "./handler.ts";
import { GrpcStatus, grpcStatusForFailure, isGrpc } from "./grpc.ts";
import { getHeader, type ProxyRequest, type ProxyResponse } from "./message.ts";

/** Settings and collaborators of the HTTP/2 side of a listener. */
export interface H2ServerOptions {
  listener: string;
  clock: Clock;
  wheel: TimerWheel;
  log: Logger;
  handler: HttpHandler;
  /** Closes a connection after this long without open streams. */
  idleTimeoutMs: number;
  /** Largest request header list, in octets. */
  maxHeaderListSize: number;
  /** Counts a malformed request by reason. */
  onMalformed: (reason: string) => void;
  settings?: Partial<H2Settings>;
  /** The client's identity, on a mutual-TLS listener. */
  peer?: PeerIdentity;
  /**
   * The listener's drain: once it starts, the connection goes away gracefully (two
   * GOAWAYs, see `H2Connection.drain`) and closes when its streams are done.
   */
  drain?: Drain;
}

/** Trailers for a gRPC response whose upstream ended without a status. */
const MISSING_GRPC_STATUS = [
  "grpc-status",
  String(GrpcStatus.UNKNOWN),
  "grpc-message",
  "upstream sent no grpc-status",
];

/**
 * Serves HTTP/2 (h2c prior knowledge) on an accepted connection whose first bytes — the
 * preface — are in `reader`: every stream becomes a protocol-independent proxy request
 * answered through the listener's handler, with trailers relayed (gRPC). Follows the
 * listener's drain, if any. Resolves when the connection ends; never throws.
 */
export async function serveH2(
  conn: Deno.Conn,
  reader: ConnReader,
  remote: string,
  o: H2ServerOptions,
): Promise<void> {
  const h2 = new H2Connection({
    role: "server",
    conn,
    reader,
    wheel: o.wheel,
    now: () => o.clock.monotonic(),
    log: o.log,
    idleTimeoutMs: o.idleTimeoutMs,
    settings: { maxHeaderListSize: o.maxHeaderListSize, ...o.settings },
    onStream: (stream) => onStream(stream, remote, o),
    onMalformed: (stream, reason) => {
      o.onMalformed(reason);
      o.log.debug("malformed http2 request", { reason, remote });
      const status = reason === "headers_too_large" ? "431" : "400";
      try {
        stream.sendHeaders(
          [":status", status, "content-type", "text/plain", "x-skiff-error", reason],
          true,
        );
      } catch { /* the stream is already gone */ }
      // The answer is complete: the rest of the request is not wanted (RFC 9113 §8.1), and
      // its bytes must not hold the connection's receive window.
      if (!stream.readDone) stream.reset(ErrorCode.NO_ERROR);
    },
  });
  // Started first: our SETTINGS must precede a drain's GOAWAY.
  const running = h2.run();
  const offDrain = o.drain?.onDrain(() => h2.drain());
  try {
    await running;
  } finally {
    offDrain?.();
  }
}

function onStream(stream: H2Stream, remote: string, o: H2ServerOptions): void {
  const start = o.clock.monotonic();
  o.wheel.touch(start);
  const ex = new Exchange(o.listener, remote, start, o.clock.now());
  ex.peer = o.peer;
  const headers: string[] = [];
  const pseudo = splitPseudo(stream.headers!, headers);
  const method = pseudo[":method"];
  const path = pseudo[":path"] ?? "/";
  const authority = pseudo[":authority"] ?? pseudo[":host"] ?? "";
  const cl = getHeader(stream.headers!, "content-length");
  const body = stream.readDone ? null : new H2Body(stream, cl === undefined ? -1 : Number(cl));
  ex.protocol = "HTTP/2";
  ex.method = method;
  ex.path = path;
  ex.authority = authority;
  ex.userAgent = getHeader(headers, "user-agent") ?? "";
  const req: ProxyRequest = {
    method,
    path,
    authority,
    scheme: pseudo[":scheme"] ?? "http",
    headers,
    body,
    protocol: "HTTP/2",
    upgrade: null,
  };
  let handled: Promise<ProxyResponse>;
  try {
    handled = o.handler.handle(req, ex);
  } catch (err) {
    handled = Promise.reject(err); // a bug: still reset the stream and finish the exchange
  }
  handled
    .then((res) => respond(stream, res, req, ex, o))
    .catch((err) => {
      ex.error ||= "downstream_reset";
      o.log.debug("http2 response failed", { err });
      stream.reset(ErrorCode.INTERNAL_ERROR);
    })
    .finally(() => {
      if (body) {
        ex.bytesReceived = body.bytes;
        // A complete response ends an unread request with NO_ERROR (RFC 9113 §8.1).
        if (!body.done) {
          if (stream.localEnded) stream.reset(ErrorCode.NO_ERROR);
          else body.cancel();
        }
      }
      ex.end = o.clock.monotonic();
      o.handler.finish(ex);
    });
}

async function respond(
  stream: H2Stream,
  res: ProxyResponse,
  req: ProxyRequest,
  ex: Exchange,
  o: H2ServerOptions,
): Promise<void> {
  ex.status = res.status;
  if (stream.error) {
    res.body?.cancel();
    ex.error ||= "downstream_reset";
    return;
  }
  const h = appendH2Fields([":status", String(res.status)], res.headers);
  const body = req.method === "HEAD" ? (res.body?.cancel(), null) : res.body;
  if (body !== null && body.length >= 0) h.push("content-length", String(body.length));
  if (body === null) {
    stream.sendHeaders(h, true);
    return;
  }
  const grpc = isGrpc(getHeader(res.headers, "content-type"));
  stream.sendHeaders(h, false);
  // A client that resets the stream ends the upstream response too, even while a read of
  // it is pending.
  stream.onFail = () => body.cancel();
  let sent = 0;
  try {
    for (let c: Uint8Array | null = body.takeBuffered(); c !== null; c = await body.read()) {
      if (c.length === 0) continue;
      // The connection copies the chunk into its write buffer at once.
      await stream.write(c);
      sent += c.length;
    }
  } catch (err) {
    ex.bytesSent = sent;
    body.cancel();
    const gone = stream.error !== null;
    const reason = err instanceof UpstreamError
      ? err.reason
      : gone
      ? "downstream_reset"
      : "upstream_reset";
    ex.error ||= reason;
    if (gone) return;
    o.log.warn("upstream failed during the response body", { err, upstream: ex.upstreamHost });
    if (!grpc) {
      stream.reset(ErrorCode.INTERNAL_ERROR);
      return;
    }
    // The head is out: end the call with a status in the trailers rather than a reset.
    const status = String(grpcStatusForFailure(reason));
    ex.grpcStatus = status;
    stream.sendHeaders([
      "grpc-status",
      status,
      "grpc-message",
      encodeURIComponent((err as Error)?.message ?? String(err)),
      "x-skiff-error",
      reason,
    ], true);
    return;
  } finally {
    stream.onFail = null;
  }
  ex.bytesSent = sent;
  let trailers = body.trailers();
  if (grpc) {
    if (trailers === null || getHeader(trailers, "grpc-status") === undefined) {
      trailers = [...(trailers ?? []), ...MISSING_GRPC_STATUS];
    }
    ex.grpcStatus = getHeader(trailers, "grpc-status")!;
  }
  if (trailers !== null && trailers.length > 0) {
    stream.sendHeaders(appendH2Fields([], trailers), true);
  } else await stream.end();
}
