import type { Logger } from "../../core/mod.ts";
import { writeAll } from "../../net/conn_reader.ts";
import type { Exchange } from "../exchange.ts";
import type { Body } from "./body.ts";
import { latin1Decode } from "./h1_head.ts";
import {
  chunkFrame,
  encodeHead,
  encodeResponseHead,
  fieldLines,
  lastChunk,
  put,
  REASONS,
} from "./h1_serialize.ts";
import type { ProxyResponse } from "./message.ts";

const CONNECTION_CLOSE = "connection: close\r\n";
const CONNECTION_KEEP_ALIVE = "connection: keep-alive\r\n";

/**
 * Writes HTTP/1.1 responses on one downstream connection: frames the body (Content-Length,
 * chunked, or delimited by closing for HTTP/1.0), copies an HTTP/1.1 upstream's verbatim
 * field lines, and puts a small complete response into one reused buffer for a single write.
 */
export class H1ResponseWriter {
  readonly #conn: { write(p: Uint8Array): Promise<number> };
  readonly #log: Logger;
  readonly #listener: string;
  readonly #w = new Uint8Array(16 * 1024);
  /** The encoded response of `start`: a reused buffer, or a larger array for a large head. */
  out: Uint8Array = this.#w;
  /** Body bytes in `out`. */
  outBody = 0;

  /**
   * @param conn the downstream connection
   * @param log where a failing upstream body is reported
   * @param listener the listener's name, for that report
   */
  constructor(conn: { write(p: Uint8Array): Promise<number> }, log: Logger, listener: string) {
    this.#conn = conn;
    this.#log = log;
    this.#listener = listener;
  }

  /**
   * Encodes the response head into `out`, with the body when it is all in memory and fits
   * (the common case): returns the length of that complete response for the caller to
   * write. Otherwise writes the response and resolves with false when the connection must
   * close after it.
   *
   * @param method the request's method (a HEAD response has no body)
   * @param minor the request's minor version
   * @param keep whether the connection is to stay open after this response
   */
  start(
    res: ProxyResponse,
    method: string,
    minor: number,
    keep: boolean,
    ex: Exchange,
  ): number | Promise<boolean> {
    const body = res.body;
    const status = res.status;
    const bodyless = status < 200 || status === 204 || status === 304 || method === "HEAD";
    // The framing fields: `length` (-1 when none is sent) and the connection field, if any.
    let length = -1;
    let chunked = false;
    if (!bodyless) {
      if (body === null) length = 0;
      else if (body.length >= 0) length = body.length;
      else if (minor === 1) chunked = true;
      else keep = false; // HTTP/1.0 and unknown length: delimit by closing
    }
    const connection = !keep ? CONNECTION_CLOSE : minor === 0 ? CONNECTION_KEEP_ALIVE : "";
    // Fields straight from an HTTP/1.1 upstream arrive as verbatim bytes: copied, not
    // decoded, split, joined and encoded again.
    const raw = res.rawHeaders;
    let out = this.#w;
    let n = raw ? encodeResponseHead(out, status, raw) : -1;
    if (n >= 0) {
      if (length >= 0) {
        n = put(out, n, "content-length: ");
        n = put(out, n, String(length));
        n = put(out, n, "\r\n");
      } else if (chunked) n = put(out, n, "transfer-encoding: chunked\r\n");
      n = put(out, n, connection);
      n = put(out, n, "\r\n");
    }
    if (n < 0) {
      // Fields as a list (local replies, other upstream protocols) or a head too large for
      // the buffer: one string, encoded.
      const framing = (length >= 0
        ? "content-length: " + length + "\r\n"
        : chunked
        ? "transfer-encoding: chunked\r\n"
        : "") + connection;
      const lines = raw ? latin1Decode(raw, 0, raw.length) : fieldLines(res.headers);
      const text = "HTTP/1.1 " + status + " " + (REASONS[status] ?? "Unknown") + "\r\n" +
        lines + framing + "\r\n";
      n = encodeHead(text, out);
      if (n < 0) {
        out = new Uint8Array(text.length);
        n = encodeHead(text, out);
      }
    }
    if (raw) res.headSent?.(); // copied into `out`
    this.out = out;
    if (body === null || bodyless) {
      this.outBody = 0;
      body?.cancel();
      return n;
    }
    const first = body.takeBuffered();
    if (!chunked && first.length <= out.length - n) {
      out.set(first, n);
      if (body.done) {
        this.outBody = first.length;
        return n + first.length; // the whole response in one write: the common case
      }
      return this.#stream(
        body,
        out.subarray(0, n + first.length),
        first,
        true,
        false,
        keep,
        ex,
      );
    }
    return this.#stream(body, out.subarray(0, n), first, false, chunked, keep, ex);
  }

  /**
   * Writes a response whose body is still arriving: `head`, then `first` unless it is
   * already part of `head` (`firstInHead`), then the rest of the body. Resolves with false
   * when the connection must close after it.
   */
  async #stream(
    body: Body,
    head: Uint8Array,
    first: Uint8Array,
    firstInHead: boolean,
    chunked: boolean,
    keep: boolean,
    ex: Exchange,
  ): Promise<boolean> {
    // Body bytes are views into the upstream connection's read buffer. Once the body is done
    // the connection may carry the next exchange, whose reads reuse that buffer while these
    // bytes still wait for the client: keep a copy of the last of them.
    if (!firstInHead && first.length > 0 && body.done) first = first.slice();
    await writeAll(this.#conn, head);
    if (!firstInHead && first.length > 0) {
      await writeAll(this.#conn, chunked ? chunkFrame(first) : first);
    }
    ex.bytesSent = first.length;
    for (;;) {
      let c: Uint8Array | null;
      try {
        c = await body.read();
      } catch (err) {
        // The upstream failed mid-body: the client gets a truncated message and a close.
        ex.error ||= "upstream_reset";
        this.#log.warn("upstream failed during the response body", {
          err,
          listener: this.#listener,
          upstream: ex.upstreamHost,
          request_id: ex.requestId,
        });
        return false;
      }
      if (c === null) break;
      if (c.length === 0) continue;
      if (body.done) c = c.slice();
      // A failed write is the client's: it propagates to the caller, which cancels the body.
      await writeAll(this.#conn, chunked ? chunkFrame(c) : c);
      ex.bytesSent += c.length;
    }
    if (chunked) await writeAll(this.#conn, lastChunk(body.trailers()));
    return keep;
  }
}
