import { ViewCache } from "../../core/view_cache.ts";
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
import { H1Response } from "../http/h1_response.ts";
import { type ScannedResponse, scanResponseHead } from "../http/h1_response_scan.ts";
import { UpstreamError } from "../upstream_error.ts";

const UPSTREAM_LIMITS: HeadLimits = { maxHeadBytes: 64 * 1024, maxHeaders: 200 };
const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

/** Where an exchange records its timings, in `Clock.monotonic()` milliseconds. */
export interface ExchangeTiming {
  /** When the first byte of the response arrived (0 until then). */
  upstreamFirstByte: number;
  /** How long connecting took, or -1 when a pooled connection was reused. */
  connectMs: number;
}

/** Called once per exchange when it is over; `reusable` says whether the connection may serve another request. */
export type ExchangeDone = (conn: H1Connection, reusable: boolean) => void;

/**
 * One HTTP/1.1 connection to an upstream, carrying one request at a time. The response
 * body is read lazily by the caller; when it ends, the exchange's `onDone` says whether the
 * connection may serve another request.
 */
export class H1Connection {
  readonly reader: ConnReader;
  readonly #conn: Deno.Conn;
  readonly #wbuf = new Uint8Array(16 * 1024);
  /** Views of `#wbuf` for the request heads written from it. */
  readonly #heads = new ViewCache();
  /** Views of `#kept` for the response heads scanned into it. */
  readonly #keptViews = new ViewCache();
  /**
   * The kept field lines of the last fast-path response head (see `#fast`), reused while the
   * response's body keeps this connection busy. A response without a body frees the connection
   * at once, and a queued request may then scan a head the upstream already sent into this
   * buffer before the first one is written downstream: such a response becomes its holder, and
   * until the holder's head has been sent, heads are scanned into arrays of their own.
   */
  readonly #kept = new Uint8Array(2 * 1024);
  #keptHolder: H1Response | null = null;
  readonly #now: () => number;
  /** Requests sent on this connection. */
  requests = 0;
  /** How long this connection took to establish, in milliseconds. */
  connectMs = 0;
  /** Kept by the pool that owns this connection (its idle-time state). */
  poolEntry: unknown = null;
  #closed = false;
  #onDone: ExchangeDone | null = null;
  /** The response head `#findHead` scanned on the fast path, until it is taken. */
  #scanned: ScannedResponse | null = null;
  #reusable = false;

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

  /** `close` bound to this connection, for cancel callbacks (no closure per request). */
  readonly closer = (): void => this.close();

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
    onDone: ExchangeDone,
  ): Promise<ProxyResponse> {
    this.requests++;
    const reused = this.requests > 1;
    const r = this.reader;
    const readBefore = r.bytesRead;
    this.#onDone = onDone;
    try {
      // The per-request hot path, kept inline: one write for the head (with a body that is
      // already in memory), then the response head, usually already read by then.
      const out = this.#head(req);
      const n = await this.#conn.write(out);
      if (n < out.length) await writeAll(this.#conn, out.subarray(n));
      const body = req.body;
      if (body !== null && (!body.done || body.length < 0)) await this.#streamBody(body);
      const max = UPSTREAM_LIMITS.maxHeadBytes;
      const headRequest = req.method === "HEAD";
      for (;;) {
        let end = this.#findHead(req);
        while (end < 0) {
          if (!(await r.fill(max + 1))) {
            throw new UpstreamError(
              "upstream_reset",
              r.available === 0
                ? "The upstream closed the connection before responding"
                : "The upstream closed the connection in the middle of the response head",
            );
          }
          if (timing.upstreamFirstByte === 0) timing.upstreamFirstByte = this.#now();
          end = this.#findHead(req);
        }
        if (timing.upstreamFirstByte === 0) timing.upstreamFirstByte = this.#now();
        const scan = this.#scanned;
        this.#scanned = null;
        if (scan !== null && scan.status >= 200) return this.#fast(scan, headRequest);
        const head = parseResponseHead(r.buf, r.start, end, UPSTREAM_LIMITS);
        r.consume(end - r.start);
        if (head.status === 101 && req.upgrade) return this.#upgraded(head.headers);
        // Interim responses (100 Continue, 103 Early Hints): skiff answers Expect itself.
        if (head.status < 200) continue;
        const framing = responseFraming(head.minor, head.status, head.headers, headRequest);
        this.#reusable = !framing.close && !req.upgrade;
        const resBody = new H1BodyReader(r, framing, UPSTREAM_LIMITS, this.#bodyEnded);
        const headers = endToEndHeaders(head.headers, framing.connection);
        if (headRequest || head.status === 304) keepLength(head.headers, headers);
        return {
          status: head.status,
          headers,
          body: resBody.length === 0 && resBody.done ? null : resBody,
        };
      }
    } catch (err) {
      this.close();
      this.#finish(false);
      throw this.#classify(err, reused && r.bytesRead === readBefore);
    }
  }

  /**
   * The end index of a complete response head at the start of the buffer, or -1. A common
   * head is scanned on the way (kept in `#scanned`; never for an upgrade, whose 101 needs the
   * strict parser's fields); anything else is delimited by `findHeadEnd`.
   */
  #findHead(req: ProxyRequest): number {
    const r = this.reader;
    const scan = req.upgrade
      ? null
      : scanResponseHead(r.buf, r.start, r.end, UPSTREAM_LIMITS, this.#scratch(), this.#keptViews);
    this.#scanned = scan;
    if (scan !== null) return r.start + scan.size;
    return findHeadEnd(r.buf, r.start, r.end, UPSTREAM_LIMITS.maxHeadBytes);
  }

  /**
   * The byte-level path for a common final response head (see `scanResponseHead`): no
   * strings for the fields, which stay raw for the client.
   */
  #fast(scan: ScannedResponse, headRequest: boolean): ProxyResponse {
    const r = this.reader;
    const framing = responseFraming(scan.minor, scan.status, scan.framing, headRequest);
    r.consume(scan.size);
    this.#reusable = !framing.close;
    const body = new H1BodyReader(r, framing, UPSTREAM_LIMITS, this.#bodyEnded);
    let kept = scan.kept;
    if (headRequest || scan.status === 304) kept = withLength(kept, scan.framing);
    const res = new H1Response(
      scan.status,
      kept,
      body.length === 0 && body.done ? null : body,
      UPSTREAM_LIMITS.maxHeaders,
    );
    if (body.done && kept.buffer === this.#kept.buffer) this.#keptHolder = res;
    return res;
  }

  /**
   * Where the next response head's kept field lines go (see `#kept`): the scratch buffer, or
   * none while its holder still needs it (the scanner then makes an array of the right size,
   * and only for a complete head).
   */
  #scratch(): Uint8Array | undefined {
    const holder = this.#keptHolder;
    if (holder !== null) {
      if (holder.rawHeaders !== null) return undefined;
      this.#keptHolder = null;
    }
    return this.#kept;
  }

  /** Ends the exchange once (body finished, failed, or upgrade closed). */
  #finish(reusable: boolean): void {
    const fn = this.#onDone;
    this.#onDone = null;
    fn?.(this, reusable);
  }

  readonly #bodyEnded = (clean: boolean): void => {
    const reusable = clean && this.#reusable;
    if (!reusable) this.close();
    this.#finish(reusable);
  };

  /** Encodes the request head, followed by whatever of the body is already in memory. */
  #head(req: ProxyRequest): Uint8Array {
    const body = req.body;
    const length = body ? body.length : BODY_METHODS.has(req.method) ? 0 : -2;
    const extra = req.upgrade ? `connection: upgrade\r\nupgrade: ${req.upgrade}\r\n` : "";
    const text = requestHeadText(req.method, req.path, req.authority, req.headers, length, extra);
    let out = this.#wbuf;
    let n = encodeHead(text, out);
    if (n < 0) {
      out = new Uint8Array(text.length);
      n = encodeHead(text, out);
    }
    const first = body === null ? null : body.takeBuffered();
    if (first === null || first.length === 0) return this.#heads.view(out, 0, n);
    const framed = body!.length < 0 ? chunkFrame(first) : first;
    if (framed.length > out.length - n) {
      const all = new Uint8Array(n + framed.length);
      all.set(out.subarray(0, n));
      out = all;
    }
    out.set(framed, n);
    return out.subarray(0, n + framed.length);
  }

  /** Sends the rest of a request body (after what `#head` already took). */
  async #streamBody(body: Body): Promise<void> {
    const chunked = body.length < 0;
    for (let chunk = await body.read(); chunk !== null; chunk = await body.read()) {
      if (chunk.length > 0) await writeAll(this.#conn, chunked ? chunkFrame(chunk) : chunk);
    }
    if (chunked) await writeAll(this.#conn, lastChunk(body.trailers()));
  }

  #upgraded(headers: string[]): ProxyResponse {
    const conn = this.#conn;
    const upgraded: Upgraded = {
      leftover: this.reader.take().slice(),
      read: (p) => conn.read(p),
      write: (p) => conn.write(p),
      closeWrite: () => conn.closeWrite(),
      close: () => {
        this.close();
        this.#finish(false);
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
        { cause: err },
      );
    }
    return new UpstreamError(
      "upstream_reset",
      `Upstream connection failed: ${(err as Error)?.message}`,
      { cause: err, staleReuse: nothingBack },
    );
  }
}

/** `keepLength` for raw field lines: HEAD and 304 keep the upstream's Content-Length. */
function withLength(kept: Uint8Array, framing: string[]): Uint8Array {
  const length = getHeader(framing, "content-length");
  if (length === undefined) return kept;
  const line = "content-length: " + length + "\r\n";
  const out = new Uint8Array(kept.length + line.length);
  out.set(kept);
  encodeHead(line, out, kept.length);
  return out;
}

/** HEAD and 304 responses describe the full entity: keep their Content-Length. */
function keepLength(from: string[], to: string[]): void {
  const length = getHeader(from, "content-length");
  if (length !== undefined) to.push("content-length", length);
}
