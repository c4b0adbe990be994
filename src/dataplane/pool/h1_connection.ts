import { ConnReader, writeAll } from "../../net/conn_reader.ts";
import type { Body } from "../http/body.ts";
import { H1BodyReader } from "../http/h1_body_reader.ts";
import { responseFraming } from "../http/h1_framing.ts";
import { findHeadEnd, type HeadLimits, parseResponseHead } from "../http/h1_head.ts";
import { chunkFrame, encodeHead, lastChunk, requestHeadText } from "../http/h1_serialize.ts";
import { endToEndHeaders } from "../http/hop_by_hop.ts";
import {
  getHeader,
  type ProxyRequest,
  type ProxyResponse,
  type Upgraded,
} from "../http/message.ts";
import { HttpParseError } from "../http/parse_error.ts";
import { UpstreamError } from "../upstream_error.ts";

const UPSTREAM_LIMITS: HeadLimits = { maxHeadBytes: 64 * 1024, maxHeaders: 200 };
const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

/** Timestamps of one exchange, in `Clock.monotonic()` milliseconds. */
export interface ExchangeTiming {
  /** When the first byte of the response arrived (0 until then). */
  firstByte: number;
  /** How long connecting took, or -1 when a pooled connection was reused. */
  connectMs: number;
}

/**
 * One HTTP/1.1 connection to an upstream, carrying one request at a time. The response
 * body is read lazily by the caller; when it ends, `onDone(reusable)` says whether the
 * connection may serve another request.
 */
export class H1Connection {
  readonly reader: ConnReader;
  readonly #conn: Deno.Conn;
  readonly #wbuf = new Uint8Array(16 * 1024);
  readonly #now: () => number;
  /** Requests sent on this connection. */
  requests = 0;
  /** How long this connection took to establish, in milliseconds. */
  connectMs = 0;
  #closed = false;

  /**
   * @param conn a connected socket
   * @param now monotonic clock in milliseconds, for timings
   */
  constructor(conn: Deno.Conn, now: () => number) {
    this.#conn = conn;
    this.#now = now;
    this.reader = new ConnReader(conn, 16 * 1024);
  }

  /** True once closed by either side or by `close()`. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Closes the socket (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }

  /**
   * Sends `req` and reads the response head. The returned body stays tied to this
   * connection; `onDone` is called exactly once, when the exchange is over.
   *
   * @throws {UpstreamError} `upstream_reset` when the connection fails or closes before a
   * full response head, `upstream_protocol_error` on a malformed response; with `staleReuse`
   * set when the upstream closed a reused connection before answering anything
   */
  async exchange(
    req: ProxyRequest,
    timing: ExchangeTiming,
    onDone: (reusable: boolean) => void,
  ): Promise<ProxyResponse> {
    this.requests++;
    const reused = this.requests > 1;
    const readBefore = this.reader.bytesRead;
    let failed = true;
    try {
      await this.#sendRequest(req);
      const res = await this.#readResponse(req, timing, onDone);
      failed = false;
      return res;
    } catch (err) {
      throw this.#classify(err, reused && this.reader.bytesRead === readBefore);
    } finally {
      if (failed) {
        this.close();
        onDone(false);
      }
    }
  }

  async #sendRequest(req: ProxyRequest): Promise<void> {
    const body = req.body;
    const length = body ? body.length : BODY_METHODS.has(req.method) ? 0 : -2;
    const extra = req.upgrade ? `connection: upgrade\r\nupgrade: ${req.upgrade}\r\n` : "";
    const text = requestHeadText(req.method, req.path, req.authority, req.headers, length, extra);
    let n = encodeHead(text, this.#wbuf);
    let out = this.#wbuf;
    if (n < 0) {
      out = new Uint8Array(text.length);
      n = encodeHead(text, out);
    }
    if (body === null) return await writeAll(this.#conn, out.subarray(0, n));
    // Fast path: head and an already-buffered, fixed-length body in one write.
    const first = body.takeBuffered();
    if (body.length >= 0 && first.length <= out.length - n) {
      out.set(first, n);
      n += first.length;
      await writeAll(this.#conn, out.subarray(0, n));
    } else {
      await writeAll(this.#conn, out.subarray(0, n));
      if (first.length > 0) await this.#writeBody(first, body.length < 0);
    }
    await this.#streamBody(body);
  }

  async #streamBody(body: Body): Promise<void> {
    const chunked = body.length < 0;
    for (let chunk = await body.read(); chunk !== null; chunk = await body.read()) {
      if (chunk.length > 0) await this.#writeBody(chunk, chunked);
    }
    if (chunked) await writeAll(this.#conn, lastChunk(body.trailers()));
  }

  #writeBody(chunk: Uint8Array, chunked: boolean): Promise<void> {
    return writeAll(this.#conn, chunked ? chunkFrame(chunk) : chunk);
  }

  async #readResponse(
    req: ProxyRequest,
    timing: ExchangeTiming,
    onDone: (reusable: boolean) => void,
  ): Promise<ProxyResponse> {
    const r = this.reader;
    for (;;) {
      let end = findHeadEnd(r.buf, r.start, r.end, UPSTREAM_LIMITS.maxHeadBytes);
      while (end < 0) {
        const n = await r.fill(UPSTREAM_LIMITS.maxHeadBytes + 1);
        if (n === 0) {
          throw new UpstreamError(
            "upstream_reset",
            r.available === 0
              ? "The upstream closed the connection before responding"
              : "The upstream closed the connection in the middle of the response head",
            { staleReuse: false },
          );
        }
        if (timing.firstByte === 0) timing.firstByte = this.#now();
        end = findHeadEnd(r.buf, r.start, r.end, UPSTREAM_LIMITS.maxHeadBytes);
      }
      if (timing.firstByte === 0) timing.firstByte = this.#now();
      const head = parseResponseHead(r.buf, r.start, end, UPSTREAM_LIMITS);
      r.consume(end - r.start);
      if (head.status === 101 && req.upgrade) return this.#upgraded(head.headers, onDone);
      // Interim responses (100 Continue, 103 Early Hints): skiff answers Expect itself.
      if (head.status < 200) continue;
      const framing = responseFraming(head.minor, head.status, head.headers, req.method === "HEAD");
      const reusable = !framing.close && !req.upgrade;
      const body = new H1BodyReader(r, framing, UPSTREAM_LIMITS, (clean) => {
        if (!clean || !reusable) this.close();
        onDone(clean && reusable);
      });
      const headers = endToEndHeaders(head.headers, framing.connection);
      if (req.method === "HEAD" || head.status === 304) keepLength(head.headers, headers);
      return {
        status: head.status,
        headers,
        body: body.length === 0 && body.done ? null : body,
      };
    }
  }

  #upgraded(headers: string[], onDone: (reusable: boolean) => void): ProxyResponse {
    const conn = this.#conn;
    const upgraded: Upgraded = {
      leftover: this.reader.take().slice(),
      read: (p) => conn.read(p),
      write: (p) => conn.write(p),
      closeWrite: () => conn.closeWrite(),
      close: () => {
        this.close();
        onDone(false);
      },
    };
    return { status: 101, headers: endToEndHeaders(headers, []), body: null, upgraded };
  }

  #classify(err: unknown, nothingBack: boolean): UpstreamError {
    if (err instanceof UpstreamError) {
      if (err.reason !== "upstream_reset" || !nothingBack) return err;
      return new UpstreamError(err.reason, err.message, { staleReuse: true, cause: err.cause });
    }
    if (err instanceof HttpParseError) {
      return new UpstreamError(
        "upstream_protocol_error",
        `Malformed upstream response: ${err.message}`,
        {
          cause: err,
        },
      );
    }
    return new UpstreamError(
      "upstream_reset",
      `Upstream connection failed: ${(err as Error)?.message}`,
      {
        cause: err,
        staleReuse: nothingBack,
      },
    );
  }
}

/** HEAD and 304 responses describe the full entity: keep their Content-Length. */
function keepLength(from: string[], to: string[]): void {
  const length = getHeader(from, "content-length");
  if (length !== undefined) to.push("content-length", length);
}
