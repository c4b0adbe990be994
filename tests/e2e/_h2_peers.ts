/**
 * HTTP/2 helpers for end-to-end tests: a `node:http2` client request that collects status,
 * headers, body and trailers, and a `node:http2` (h2c) upstream server.
 * @module
 */
import http2 from "node:http2";
import { Buffer } from "node:buffer";

/** A complete HTTP/2 response as a client saw it. */
export interface H2Reply {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: Uint8Array;
  /** Trailer fields, or `null` when the response had none. */
  trailers: http2.IncomingHttpHeaders | null;
}

/** Opens an h2c (prior knowledge) session to `127.0.0.1:port` and waits until it is up. */
export function h2Connect(port: number): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.once("connect", () => {
      session.off("error", reject);
      // A session error after connecting fails the streams that are open; keep it quiet.
      session.on("error", () => {});
      resolve(session);
    });
    session.once("error", reject);
  });
}

/**
 * Sends one request on `session` and collects the whole response.
 *
 * @param headers request headers; `:method` defaults to GET, `:path` to `/`
 * @param body request body, or `null` for none
 * @param deadlineMs the stream is cancelled and the promise rejects after this long
 * @throws when the stream is reset or fails before the response has ended
 */
export function h2Request(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body: Uint8Array | null = null,
  deadlineMs = 20_000,
): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": "GET", ":path": "/", ...headers }, {
      endStream: body === null,
    });
    const timer = setTimeout(() => {
      reject(new Error(`No complete response to ${headers[":path"]} within ${deadlineMs} ms`));
      stream.close(http2.constants.NGHTTP2_CANCEL);
    }, deadlineMs);
    let status = 0;
    let head: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | null = null;
    const chunks: Buffer[] = [];
    let ended = false;
    stream.on("response", (h) => {
      status = Number(h[":status"]);
      head = h;
    });
    stream.on("trailers", (t) => (trailers = t));
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => (ended = true));
    stream.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    stream.on("close", () => {
      clearTimeout(timer);
      if (!ended || status === 0) {
        reject(new Error(`Stream closed before the response ended (code ${stream.rstCode})`));
        return;
      }
      resolve({ status, headers: head, body: new Uint8Array(Buffer.concat(chunks)), trailers });
    });
    if (body !== null) stream.end(Buffer.from(body));
  });
}

/** What an h2c upstream's handler gets for each request. */
export interface H2UpstreamRequest {
  headers: http2.IncomingHttpHeaders;
  body: Uint8Array;
  stream: http2.ServerHttp2Stream;
}

/** A `node:http2` h2c server on a loopback port. */
export interface H2Upstream {
  port: number;
  /** Requests seen, in arrival order. */
  requests: H2UpstreamRequest[];
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts an h2c upstream. `handler` is called once the request body has been read and must
 * answer on `req.stream`.
 */
export async function startH2Upstream(
  handler: (req: H2UpstreamRequest) => void | Promise<void>,
): Promise<H2Upstream> {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  const requests: H2UpstreamRequest[] = [];
  server.on("session", (s) => {
    sessions.add(s);
    s.on("error", () => {});
    s.once("close", () => sessions.delete(s));
  });
  server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    stream.on("error", () => {});
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      const req = { headers, body: new Uint8Array(Buffer.concat(chunks)), stream };
      requests.push(req);
      Promise.resolve(handler(req)).catch((err) => {
        if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
        console.error("h2 upstream handler failed", err);
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const close = async () => {
    for (const s of sessions) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { port, requests, close, [Symbol.asyncDispose]: close };
}

/** Closes a client session and waits until it is gone. */
export function closeSession(session: http2.ClientHttp2Session): Promise<void> {
  if (session.closed || session.destroyed) return Promise.resolve();
  return new Promise((resolve) => session.close(() => resolve()));
}
