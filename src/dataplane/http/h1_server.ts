import { type Timer, ViewCache } from "../../core/mod.ts";
import { type ConnReader, writeAll } from "../../net/conn_reader.ts";
import { Exchange, WallClock } from "../exchange.ts";
import type { H1ServerOptions } from "./_h1_server_options.ts";
import { encodeErrorHead } from "./_error_head.ts";
import { requestFromHead } from "./_request_from_head.ts";
import { upgradeTunnel } from "./_upgrade_tunnel.ts";
import type { H1RequestBody } from "./h1_request_body.ts";
import { type Framing, requestFraming } from "./h1_framing.ts";
import { findHeadEnd, parseRequestHead, type RequestHead } from "./h1_head.ts";
import { scanRequestHead } from "./h1_request_scan.ts";
import { REASONS } from "./h1_serialize.ts";
import { H1ResponseWriter } from "./h1_response_writer.ts";
import type { ProxyResponse } from "./message.ts";
import { HttpParseError } from "./parse_error.ts";

export type { H1ServerOptions } from "./_h1_server_options.ts";

const CONTINUE = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");
const CR = 13;
const LF = 10;
/** `H1ServerOptions.drainIdleTimeoutMs` when absent. */
const DRAIN_IDLE_TIMEOUT_MS = 1_000;
/** How long a drained connection waits for the client to close after our FIN. */
const LINGER_MS = 1_000;

type Phase = "idle" | "head" | "body" | "busy";

/**
 * Serves HTTP/1.1 (and 1.0) on one accepted connection with skiff's own strict codec:
 * keep-alive, pipelined requests answered in order, `Expect: 100-continue`, Upgrade
 * pass-through, and idle / header / body timeouts so slow clients cannot hold it open.
 */
export class H1ServerConnection {
  readonly #conn: Deno.Conn;
  readonly #r: ConnReader;
  readonly #o: H1ServerOptions;
  readonly #remote: string;
  readonly #writer: H1ResponseWriter;
  #phase: Phase = "idle";
  /** The connection's one timer, for whichever timeout the phase has. */
  #timer: Timer;
  /** When the current phase times out (wheel time); Infinity for none. */
  #due = Infinity;
  /** When `#timer` fires; Infinity while it is not scheduled. */
  #timerAt: number;
  #closed = false;
  #timedOut = false;
  /** True once the listener's drain started: the connection ends after its next response. */
  #draining = false;
  readonly #wall: WallClock;
  /** The head `#findHead` parsed on the fast path, until it is taken. */
  #scanned: RequestHead | null = null;
  /**
   * Given to every request body, called when it ends: the request timeout of the `body`
   * phase no longer applies. One closure for the connection, not one per request.
   */
  readonly #bodyEnded: () => void;
  /** Views of the response buffer, for its writes (the same length each time, usually). */
  readonly #outViews = new ViewCache();
  /** Views of the read buffer, for the request heads decoded from it. */
  readonly #headViews = new ViewCache();

  /**
   * @param conn the accepted connection
   * @param reader its buffered reader (may already hold peeked bytes)
   * @param remote the client's address as `ip:port`
   */
  constructor(conn: Deno.Conn, reader: ConnReader, remote: string, opts: H1ServerOptions) {
    this.#conn = conn;
    this.#r = reader;
    this.#o = opts;
    this.#remote = remote;
    this.#wall = new WallClock(opts.clock);
    this.#writer = new H1ResponseWriter(conn, opts.log, opts.listener);
    this.#timer = opts.wheel.schedule(opts.idleTimeoutMs, () => this.#onTimer());
    this.#timerAt = opts.wheel.now() + opts.idleTimeoutMs;
    this.#bodyEnded = () => {
      if (this.#phase === "body") this.#arm("busy", 0);
    };
  }

  /** Serves requests until the client or a timeout ends the connection. Never throws. */
  async serve(): Promise<void> {
    const o = this.#o;
    const r = this.#r;
    const offDrain = o.drain?.onDrain(() => this.#onDrain());
    try {
      // One iteration per request, inline: an async method per request would cost one more
      // promise and resumption each time.
      while (!this.#closed) {
        let head: RequestHead;
        let framing: Framing;
        try {
          // The head-reading loop stays inline (no async frame of its own): usually one fill.
          let end = this.#headStart();
          while (end < 0) {
            if ((await r.fill(o.limits.maxHeadBytes + 1)) === 0) return; // the client left
            end = this.#headAfterFill();
          }
          // The byte-level scanner took the common head (see `#findHead`); anything unusual
          // goes to the strict parser, which accepts it or names what is wrong.
          head = this.#scanned ?? parseRequestHead(r.buf, r.start, end, o.limits);
          this.#scanned = null;
          r.consume(end - r.start);
          framing = requestFraming(head.minor, head.headers);
        } catch (err) {
          if (err instanceof HttpParseError) return await this.#reject(err);
          if (err instanceof RangeError) {
            return await this.#reject(new HttpParseError("head_too_large", err.message, 431));
          }
          throw err;
        }
        const start = o.clock.monotonic();
        o.wheel.touch(start); // timers scheduled for this request count from a fresh time
        const ex = new Exchange(o.listener, this.#remote, start, this.#wall.at(start));
        ex.peer = o.peer;
        const req = requestFromHead(head, framing, ex, r, o.limits, this.#bodyEnded);
        if (typeof req === "string") {
          return await this.#reject(
            new HttpParseError(
              req,
              `Rejected request: ${req}`,
              req === "method_not_allowed" ? 405 : 400,
            ),
          );
        }
        const body = req.body as H1RequestBody | null;
        if (body) {
          this.#arm("body", o.requestTimeoutMs);
          if (framing.expectContinue) await writeAll(this.#conn, CONTINUE);
        } else this.#arm("busy", 0);

        let res: ProxyResponse;
        try {
          res = await o.handler.handle(req, ex);
        } catch (err) {
          // A failed request body explains it (handled below); anything else is a bug.
          if (!body?.failure) o.log.error("request handler failed", { err, listener: o.listener });
          res = {
            status: 500,
            headers: ["x-skiff-error", "internal_error"],
            body: null,
            error: "internal_error",
          };
          ex.error = "internal_error";
        }
        this.#arm("busy", 0);
        if (body?.failure) {
          // Reading the request body failed: the client's fault, whatever the handler made of
          // it (an upstream pool reports it as an upstream error).
          res.body?.cancel();
          res.upgraded?.close();
          return await this.#bodyFailed(body, ex);
        }
        ex.status = res.status;
        if (res.upgraded && res.status === 101 && req.upgrade) {
          return await upgradeTunnel(this.#conn, r, o, res, req.upgrade, ex);
        }
        let keep = !framing.close && !this.#closed && !this.#draining;
        try {
          const writer = this.#writer;
          const sent = writer.start(res, req.method, head.minor, keep, ex);
          if (typeof sent === "number") {
            // The whole response is in `writer.out[0, sent)`: one write, continued only when
            // the kernel took part of it (inline: no async frame on the common path).
            const out = writer.out;
            const w = await this.#conn.write(this.#outViews.view(out, 0, sent));
            if (w < sent) await writeAll(this.#conn, out.subarray(w, sent));
            ex.bytesSent = writer.outBody;
          } else keep = (await sent) && keep;
        } catch (err) {
          ex.error ||= "downstream_reset";
          res.body?.cancel();
          o.log.debug("writing response failed", { err, remote: this.#remote });
          keep = false;
        } finally {
          if (body) {
            ex.bytesReceived = body.bytes;
            if (!body.done) {
              body.cancel(); // unread request body: the next request's start is unknown
              keep = false;
            }
          }
          ex.end = o.clock.monotonic();
          o.handler.finish(ex);
        }
        // A drain that started while the response was written (its head without
        // `connection: close`) does not end the connection here: the client was promised
        // another request and may be sending it now. That request is answered with
        // `connection: close`, or the drain's idle timeout closes the connection (`#headStart`).
        if (!keep) {
          if (!this.#closed) await this.#lingerClose();
          return;
        }
      }
    } catch (err) {
      if (!this.#closed) this.#o.log.debug("connection ended", { err, remote: this.#remote });
    } finally {
      offDrain?.();
      this.#timer.cancel();
      this.#close();
    }
  }

  /**
   * The drain started: a request in flight ends the connection after its response (see
   * `serve`); an idle connection gets `drainIdleTimeoutMs` for a request that may already be
   * on its way, then closes. An upgraded connection is left alone.
   */
  #onDrain(): void {
    this.#draining = true;
    if (this.#phase !== "idle") return;
    const ms = this.#drainIdleMs();
    if (this.#o.wheel.now() + ms < this.#due) this.#arm("idle", ms);
  }

  /** The idle timeout of a drained connection: the drain's, or the usual one when shorter. */
  #drainIdleMs(): number {
    const o = this.#o;
    const ms = Math.max(1, o.drainIdleTimeoutMs ?? DRAIN_IDLE_TIMEOUT_MS);
    return o.idleTimeoutMs > 0 ? Math.min(ms, o.idleTimeoutMs) : ms;
  }

  /**
   * Ends a connection without a reset (after a drained or `connection: close` response, or a
   * rejected request): the last response is followed by our FIN,
   * then whatever the client still sends (a pipelined request) is read and dropped until it
   * closes too, for at most `LINGER_MS`. Closing with unread bytes would send a reset, which
   * may destroy the response before the client reads it.
   */
  async #lingerClose(): Promise<void> {
    const r = this.#r;
    r.consume(r.available);
    const timer = this.#o.wheel.schedule(LINGER_MS, () => this.#close());
    try {
      await this.#conn.closeWrite();
      while (!this.#closed && (await r.fill()) > 0) r.consume(r.available);
    } catch {
      /* closed by the timer, or the client reset: either way it is over */
    } finally {
      timer.cancel();
    }
  }

  /**
   * Enters `phase` with a timeout of `ms` (none when 0). A later deadline leaves the timer
   * where it is — it moves itself on when it fires early — and only an earlier one moves it:
   * most requests cost no timer work at all.
   */
  #arm(phase: Phase, ms: number): void {
    this.#phase = phase;
    if (ms <= 0) {
      this.#due = Infinity;
      return;
    }
    const wheel = this.#o.wheel;
    const due = wheel.now() + ms;
    this.#due = due;
    if (due < this.#timerAt) {
      wheel.reschedule(this.#timer, ms);
      this.#timerAt = due;
    }
  }

  #onTimer(): void {
    this.#timerAt = Infinity;
    const wheel = this.#o.wheel;
    const rest = this.#due - wheel.now();
    if (rest > 0) {
      // Fired for a deadline that has moved on since (or there is none now).
      if (rest !== Infinity) {
        wheel.reschedule(this.#timer, rest);
        this.#timerAt = this.#due;
      }
      return;
    }
    this.#onTimeout();
  }

  #onTimeout(): void {
    const phase = this.#phase;
    if (phase === "busy") return;
    if (phase === "idle" && this.#draining) return this.#close(); // drained, not timed out
    this.#timedOut = true;
    this.#o.onTimeout(phase === "idle" ? "idle" : phase === "head" ? "request_headers" : "request");
    if (phase !== "idle") {
      // Best effort: tell the client why, then close.
      const out = encodeErrorHead(408, "request_timeout", "Request Timeout");
      this.#conn.write(out).catch(() => {}).finally(() => this.#close());
    } else this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }

  /**
   * Starts waiting for a request head: arms the idle (or header) timeout and looks at what
   * is buffered. Returns the head's end index, or -1 when more bytes are needed.
   */
  #headStart(): number {
    const o = this.#o;
    const r = this.#r;
    if (r.available > 0) this.#arm("head", o.headersTimeoutMs);
    // Drained before its first request (which is served with a close): the drain's timeout.
    else this.#arm("idle", this.#draining ? this.#drainIdleMs() : o.idleTimeoutMs);
    return this.#skipBlankLines() ? this.#findHead() : -1;
  }

  /**
   * The end index of a complete head at the start of the buffer, or -1. A common head is
   * parsed on the way by the byte-level scanner and kept in `#scanned`; anything else is
   * delimited by `findHeadEnd` (which rejects bare LF and heads over the limit).
   */
  #findHead(): number {
    const r = this.#r;
    const limits = this.#o.limits;
    const head = scanRequestHead(r.buf, r.start, r.end, limits, this.#headViews);
    this.#scanned = head;
    if (head !== null) return r.start + head.size;
    return findHeadEnd(r.buf, r.start, r.end, limits.maxHeadBytes);
  }

  /** After a fill: the head's end index, or -1 when more bytes are needed. */
  #headAfterFill(): number {
    const o = this.#o;
    const r = this.#r;
    let end = this.#findHead();
    // Arm the header timeout only for a head that did not arrive whole (the usual case
    // needs no timer work here).
    if (end < 0 && this.#phase === "idle") this.#arm("head", o.headersTimeoutMs);
    if (r.available >= 2 && r.buf[r.start] === CR && r.buf[r.start + 1] === LF) {
      end = this.#skipBlankLines() ? this.#findHead() : -1;
    }
    return end;
  }

  /**
   * Tolerates blank lines before a request line (RFC 9112 §2.2); false when nothing is left
   * to look at (the head cannot be complete).
   */
  #skipBlankLines(): boolean {
    const r = this.#r;
    while (r.available >= 2 && r.buf[r.start] === CR && r.buf[r.start + 1] === LF) r.consume(2);
    return r.available > 0;
  }

  /**
   * Ends an exchange whose request body could not be read: a malformed body gets its 4xx
   * (counted as malformed), a client that went away or timed out gets nothing more.
   */
  async #bodyFailed(body: H1RequestBody, ex: Exchange): Promise<void> {
    const err = body.failure;
    if (err instanceof HttpParseError) {
      ex.status = err.status;
      ex.error = err.reason;
      await this.#reject(err);
    } else {
      // A timeout already sent its 408; a client that left gets nothing.
      ex.status = this.#timedOut ? 408 : 0;
      ex.error = this.#timedOut ? "request_timeout" : "downstream_reset";
      this.#o.log.debug("request body failed", { err, remote: this.#remote });
    }
    ex.bytesReceived = body.bytes;
    ex.end = this.#o.clock.monotonic();
    this.#o.handler.finish(ex);
  }

  /** Answers a malformed request with its 4xx/5xx (the caller then closes the connection). */
  async #reject(err: HttpParseError): Promise<void> {
    const o = this.#o;
    o.onMalformed(err.reason);
    o.log.debug("malformed request", {
      reason: err.reason,
      detail: err.message,
      remote: this.#remote,
    });
    const out = encodeErrorHead(err.status, err.reason, REASONS[err.status] ?? "Bad Request");
    try {
      await writeAll(this.#conn, out);
    } catch {
      return; // the client is gone
    }
    // The rest of a rejected request may still be arriving: closing with it unread would
    // reset the connection and could destroy the answer before the client reads it.
    if (!this.#closed) await this.#lingerClose();
  }
}
