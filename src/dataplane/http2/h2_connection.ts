import type { Logger } from "../../core/logger.ts";
import type { Timer } from "../../core/clock.ts";
import type { TimerWheel } from "../../core/timer_wheel.ts";
import { ConnReader } from "../../net/conn_reader.ts";
import { DrainGoaway } from "./_drain_goaway.ts";
import { FloodGuard } from "./_flood_guard.ts";
import { FlowControl, growSendWindow } from "./_flow_control.ts";
import {
  contentEnd,
  contentStart,
  requireConnection,
  requireLength,
  requireStream,
} from "./_frame_checks.ts";
import { HeadChecks } from "./_head_checks.ts";
import { HeaderBlock } from "./_header_block.ts";
import { ParkedWriters } from "./_parked_writers.ts";
import { readPreface } from "./_read_preface.ts";
import { SettingsExchange } from "./_settings_exchange.ts";
import { StreamTable } from "./_stream_table.ts";
import {
  DEFAULT_MAX_FRAME_SIZE,
  ErrorCode,
  Flag,
  FRAME_HEADER,
  FrameType,
  H2ConnectionError,
  H2StreamError,
  PREFACE,
  readU31,
  readU32,
} from "./frame.ts";
import { FrameWriter } from "./frame_writer.ts";
import { DEFAULT_SETTINGS, type H2Settings } from "./h2_settings.ts";
import { HpackEncoder } from "./hpack_encoder.ts";
import { HpackError } from "./hpack_error.ts";
import { H2Stream, type StreamOwner } from "./h2_stream.ts";
import { Slab } from "./slab.ts";

export { DEFAULT_SETTINGS, type H2Settings } from "./h2_settings.ts";

/** What an HTTP/2 connection needs. */
export interface H2ConnectionOptions {
  /** Our side: the server (downstream h2c) or the client (upstream). */
  role: "server" | "client";
  /** The socket. */
  conn: {
    read(p: Uint8Array): Promise<number | null>;
    write(p: Uint8Array): Promise<number>;
    close(): void;
  };
  /** A reader holding bytes already read from `conn` (the preface, after detection). */
  reader?: ConnReader;
  /** Our settings and limits, over {@link DEFAULT_SETTINGS}. */
  settings?: Partial<H2Settings>;
  /** Timers: the idle timeout and the grace period of a closing connection. */
  wheel: TimerWheel;
  /** Monotonic milliseconds, read only when the peer resets streams (default: the wheel's). */
  now?: () => number;
  /** Where stream and connection problems are logged. */
  log: Logger;
  /** Server: a new stream with its request headers (pseudo-headers included, validated). */
  onStream?: (stream: H2Stream) => void;
  /** A stream's first header block was malformed: answer (server) or fail (client). */
  onMalformed?: (stream: H2Stream, reason: string) => void;
  /** Closes the connection after this long without open streams (0: never). */
  idleTimeoutMs?: number;
}

const EMPTY = new Uint8Array(0);

/** How long a closing connection waits for its last frames to go out. */
const CLOSE_GRACE_MS = 1_000;

/**
 * skiff's own HTTP/2 connection (RFC 9113), for both roles: the downstream server for apps
 * speaking h2c, and the upstream client for `protocol: http2` clusters. It runs directly on
 * a socket; frames from all streams are batched into one write per event-loop turn; flow
 * control is honoured both ways; HPACK is skiff's own. Malformed input from the peer ends
 * its stream (RST_STREAM) or the connection (GOAWAY) — never the process; every promise
 * handed out settles once its stream or the connection ends.
 */
export class H2Connection implements StreamOwner {
  readonly role: "server" | "client";
  readonly #o: H2ConnectionOptions;
  readonly #reader: ConnReader;
  readonly #w: FrameWriter;
  readonly #local: H2Settings;
  readonly #encoder = new HpackEncoder();
  readonly #slab = new Slab();
  readonly #streams: StreamTable;
  readonly #heads = new HeadChecks();
  readonly #peer: SettingsExchange;
  readonly #flow: FlowControl;
  readonly #guard: FloodGuard;
  /** Header blocks the peer sends (one in progress over HEADERS + CONTINUATION). */
  readonly #block: HeaderBlock;
  /** Writers waiting on the connection (its send window, or the socket to drain). */
  readonly #parked: ParkedWriters;
  /** A graceful drain between its first GOAWAY and the final one. */
  readonly #drain = new DrainGoaway();
  #goawayReceived = false;
  #goawaySent = false;
  /** The last stream id of the first GOAWAY we sent. */
  #goawayLast = 0;
  #closed = false;
  #closeReason: H2ConnectionError | null = null;
  #idleTimer: Timer | null = null;
  #done = Promise.withResolvers<void>();

  constructor(opts: H2ConnectionOptions) {
    this.role = opts.role;
    this.#o = opts;
    this.#local = { ...DEFAULT_SETTINGS, ...opts.settings };
    this.#reader = opts.reader ?? new ConnReader(opts.conn, 32 * 1024);
    this.#w = new FrameWriter(
      opts.conn,
      (err) => this.#die(ErrorCode.INTERNAL_ERROR, `write failed: ${err}`),
    );
    const l = this.#local;
    this.#streams = new StreamTable(opts.role);
    this.#peer = new SettingsExchange(opts.role, this.#encoder);
    this.#flow = new FlowControl(this.#w, l.connectionWindowSize, l.initialWindowSize);
    this.#guard = new FloodGuard(this.#w, {
      limitResets: opts.role === "server",
      maxResetBurst: l.maxResetBurst,
      resetRefillPerSecond: l.resetRefillPerSecond,
      now: opts.now ?? (() => opts.wheel.now()),
    });
    this.#block = new HeaderBlock(l.maxHeaderListSize);
    this.#parked = new ParkedWriters(this.#w);
  }

  /** Streams open now. */
  get activeStreams(): number {
    return this.#streams.size;
  }

  /**
   * True while new streams may be opened on this connection (client role): it is open,
   * no GOAWAY went either way, and fewer streams are open than the peer allows (100 until
   * its SETTINGS arrive). When false, wait for a stream to close or use another connection.
   */
  get available(): boolean {
    return !this.#closed && !this.#goawayReceived && !this.#goawaySent &&
      this.#streams.size < this.#peer.peerMaxStreams && this.#streams.idsLeft;
  }

  /** True once the connection is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Why the connection closed (its GOAWAY code and detail), or `null` while it is open. */
  get closeReason(): H2ConnectionError | null {
    return this.#closeReason;
  }

  /** Resolves when the connection has closed. */
  get done(): Promise<void> {
    return this.#done.promise;
  }

  /**
   * Sends our preface and settings and runs the read loop until the connection closes.
   * Never throws.
   */
  async run(): Promise<void> {
    if (this.role === "client") this.#w.raw(PREFACE);
    SettingsExchange.announce(this.#w, this.#local);
    this.#flow.announce();
    this.#armIdle();
    try {
      if (this.role === "server") await readPreface(this.#reader);
      await this.#readLoop();
      this.#die(ErrorCode.NO_ERROR, "the peer closed the connection", false);
    } catch (err) {
      if (err instanceof H2ConnectionError) this.#die(err.code, err.message);
      else if (err instanceof HpackError) this.#die(ErrorCode.COMPRESSION_ERROR, err.message);
      else this.#die(ErrorCode.INTERNAL_ERROR, String((err as Error)?.message ?? err), false);
    }
    await this.#done.promise;
  }

  /**
   * Client: opens a stream with a request head.
   *
   * @throws {H2StreamError} REFUSED_STREAM when the connection is not `available`
   */
  request(headers: string[], endStream: boolean): H2Stream {
    if (!this.available) {
      throw new H2StreamError(
        ErrorCode.REFUSED_STREAM,
        "The HTTP/2 connection takes no new streams",
      );
    }
    const s = new H2Stream(this.#streams.nextLocalId(), this, this.#peer.peerInitialWindow);
    for (let i = 0; i < headers.length && headers[i].charCodeAt(0) === 58; i += 2) {
      if (headers[i] === ":method") s.headRequest = headers[i + 1] === "HEAD";
    }
    this.#streams.add(s);
    this.#disarmIdle();
    s.sendHeaders(headers, endStream);
    return s;
  }

  /** Stops taking new streams (GOAWAY NO_ERROR) and closes once open streams finish. */
  shutdown(): void {
    if (this.#closed) return;
    this.#drain.cancel();
    if (!this.#goawaySent) this.#goaway(ErrorCode.NO_ERROR, "");
    if (this.#streams.size === 0) this.#die(ErrorCode.NO_ERROR, "shut down", false);
  }

  /**
   * Server: shuts down gracefully in two steps, as Envoy and nghttp2 do. First a GOAWAY
   * with stream id 2^31-1 and a PING: streams the client opens meanwhile are still served.
   * Once the PING is acknowledged (or after a second), `shutdown()`: the final GOAWAY names
   * the last stream taken, later ones are refused (REFUSED_STREAM, safe to retry), streams
   * in flight finish, and the connection closes when none is left. Call after `run()` (our
   * SETTINGS go first); a no-op once a GOAWAY went out.
   */
  drain(): void {
    if (this.#closed || this.#goawaySent) return;
    this.#drain.start(this.#w, this.#o.wheel, () => this.shutdown());
  }

  /** Closes at once; open streams fail. */
  close(): void {
    this.#die(ErrorCode.NO_ERROR, "closed", false);
  }

  // ---- StreamOwner ---------------------------------------------------------------------

  sendHeaders(stream: H2Stream, headers: string[], endStream: boolean): void {
    if (this.#closed) throw this.#closedError();
    let block: Uint8Array;
    try {
      block = this.#encoder.encode(headers);
    } catch (err) {
      // The encoder may have added fields to its table that the peer never saw: every later
      // block would be decoded wrongly, so the connection cannot go on.
      this.#die(ErrorCode.INTERNAL_ERROR, `cannot encode headers: ${(err as Error).message}`);
      throw new H2StreamError(ErrorCode.INTERNAL_ERROR, `Cannot encode headers: ${err}`);
    }
    this.#w.headers(stream.id, block, endStream, this.#peer.peerMaxFrame);
  }

  async sendData(stream: H2Stream, data: Uint8Array, endStream: boolean): Promise<void> {
    const total = data.length;
    if (total === 0 && !endStream) return;
    let at = 0;
    for (;;) {
      if (this.#closed) throw this.#closedError();
      if (stream.error) throw stream.error;
      let n = 0;
      if (at < total) {
        n = this.#flow.sendable(stream, Math.min(total - at, this.#peer.peerMaxFrame));
        if (n <= 0) {
          await (stream.sendWindow <= 0 ? stream.waitWindow() : this.#parked.park(stream));
          continue;
        }
        this.#flow.spend(stream, n);
      }
      at += n;
      const flags = at === total && endStream ? Flag.END_STREAM : 0;
      this.#w.frame(FrameType.DATA, flags, stream.id, data, at - n, at);
      if (at === total) break;
    }
    // Backpressure: do not let fast producers queue unbounded bytes for a slow socket.
    while (this.#parked.congested && !this.#closed && !stream.error) {
      await this.#parked.parkUntilDrained(stream);
    }
  }

  reset(stream: H2Stream, code: number): void {
    if (this.#closed) return;
    this.#w.u32Frame(FrameType.RST_STREAM, 0, stream.id, code);
  }

  consumed(stream: H2Stream, n: number): void {
    if (this.#closed) return;
    this.#flow.consumed(n);
    // No more data will come on a stream that ended or failed: its window stays shut.
    if (stream.remoteEnded || stream.error) return;
    this.#flow.consumedOnStream(stream, stream.id, n);
  }

  streamClosed(stream: H2Stream): void {
    this.#streams.remove(stream);
    if (this.#streams.size === 0) {
      if (this.#goawaySent || this.#goawayReceived) this.#die(ErrorCode.NO_ERROR, "drained", false);
      else this.#armIdle();
    }
  }

  callbackFailed(stream: H2Stream, err: unknown): void {
    this.#o.log.warn("http2 stream callback failed", { stream: stream.id, err });
  }

  // ---- reading -------------------------------------------------------------------------

  async #readLoop(): Promise<void> {
    const r = this.#reader;
    const maxFrame = DEFAULT_MAX_FRAME_SIZE; // we never advertise a larger SETTINGS_MAX_FRAME_SIZE
    for (;;) {
      while (r.available >= FRAME_HEADER) {
        const b = r.buf;
        const p = r.start;
        const length = (b[p] << 16) | (b[p + 1] << 8) | b[p + 2];
        if (length > maxFrame) {
          throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `frame of ${length} octets`);
        }
        if (r.available < FRAME_HEADER + length) break;
        const type = b[p + 3];
        const flags = b[p + 4];
        const id = readU31(b, p + 5);
        this.#frame(type, flags, id, b, p + FRAME_HEADER, p + FRAME_HEADER + length);
        r.consume(FRAME_HEADER + length);
        if (this.#closed) return;
      }
      if ((await r.fill(maxFrame + FRAME_HEADER)) === 0) return;
      if (this.#closed) return;
    }
  }

  #frame(type: number, flags: number, id: number, b: Uint8Array, s: number, e: number): void {
    if (this.#block.pending && type !== FrameType.CONTINUATION) {
      throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "expected CONTINUATION");
    }
    switch (type) {
      case FrameType.DATA:
        return this.#data(flags, id, b, s, e);
      case FrameType.HEADERS:
        return this.#headers(flags, id, b, s, e);
      case FrameType.CONTINUATION:
        return this.#continuation(flags, id, b, s, e);
      case FrameType.RST_STREAM:
        return this.#rstStream(id, b, s, e);
      case FrameType.SETTINGS:
        return this.#settings(flags, id, b, s, e);
      case FrameType.PING:
        return this.#ping(flags, id, b, s, e);
      case FrameType.GOAWAY:
        return this.#goawayFrame(id, b, s, e);
      case FrameType.WINDOW_UPDATE:
        return this.#windowUpdateFrame(id, b, s, e);
      case FrameType.PRIORITY:
        return this.#priority(id, b, s, e);
      case FrameType.PUSH_PROMISE:
        throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "PUSH_PROMISE is disabled");
      default:
        return; // unknown frame types are ignored (RFC 9113 §4.1)
    }
  }

  #data(flags: number, id: number, b: Uint8Array, s: number, e: number): void {
    requireStream(id, "DATA");
    const size = e - s; // flow control counts the whole payload, padding included
    e = contentEnd(flags, b, s, e, false);
    s = contentStart(flags, s, false);
    this.#flow.receive(size);
    const stream = this.#streams.find(id, "DATA");
    if (!stream) {
      // A stream we reset or finished: frames in flight are ignored, the window returned.
      this.#flow.consumed(size);
      return;
    }
    // From here on, a stream error hands this frame's bytes back to the connection window
    // (the stream's queued bytes go back when it fails).
    if (stream.headers === null) {
      this.#flow.consumed(size);
      return this.#streamError(stream, ErrorCode.PROTOCOL_ERROR, "DATA before HEADERS");
    }
    if (stream.remoteEnded) {
      this.#flow.consumed(size);
      return this.#streamError(stream, ErrorCode.STREAM_CLOSED, "DATA after the end");
    }
    if (!this.#flow.receiveOnStream(stream, size)) {
      this.#flow.consumed(size);
      return this.#streamError(stream, ErrorCode.FLOW_CONTROL_ERROR, "stream window exceeded");
    }
    const endStream = (flags & Flag.END_STREAM) !== 0;
    const len = e - s;
    if (stream.expectedLength >= 0) {
      const total = stream.bytesIn + len;
      if (total > stream.expectedLength || (endStream && total !== stream.expectedLength)) {
        this.#flow.consumed(size);
        return this.#streamError(stream, ErrorCode.PROTOCOL_ERROR, "content-length mismatch");
      }
    }
    const chunk = len > 0 ? this.#slab.copy(b, s, e) : EMPTY;
    // Padding counts as consumed at once; data when the application reads it.
    if (size > len) this.consumed(stream, size - len);
    stream.receiveData(chunk, endStream);
  }

  #headers(flags: number, id: number, b: Uint8Array, s: number, e: number): void {
    requireStream(id, "HEADERS");
    const priority = (flags & Flag.PRIORITY) !== 0;
    const content = contentStart(flags, s, priority);
    e = contentEnd(flags, b, s, e, priority);
    const selfDep = priority && readU31(b, content - 5) === id;
    if (flags & Flag.END_HEADERS) return this.#headerBlock(id, flags, selfDep, b, content, e);
    this.#block.start(id, flags, selfDep, b, content, e);
  }

  #continuation(flags: number, id: number, b: Uint8Array, s: number, e: number): void {
    const pending = this.#block;
    const block = pending.append(id, flags, b, s, e);
    if (block !== null) {
      this.#headerBlock(id, pending.flags, pending.selfDep, block, 0, pending.length);
    }
  }

  #headerBlock(
    id: number,
    flags: number,
    selfDep: boolean,
    b: Uint8Array,
    s: number,
    e: number,
  ): void {
    const endStream = (flags & Flag.END_STREAM) !== 0;
    const fields = this.#block.decode(b, s, e);
    const tooLarge = this.#block.tooLarge;
    const existing = this.#streams.get(id);
    if (existing) {
      if (selfDep) {
        return this.#streamError(existing, ErrorCode.PROTOCOL_ERROR, "stream depends on itself");
      }
      if (existing.remoteEnded) {
        return this.#streamError(existing, ErrorCode.STREAM_CLOSED, "HEADERS after the end");
      }
      if (existing.headers !== null) {
        const reason = this.#heads.trailers(existing, fields, endStream, tooLarge);
        if (reason) return this.#streamError(existing, ErrorCode.PROTOCOL_ERROR, reason);
        return existing.receiveTrailers(fields);
      }
      // Client: a response head (maybe after 1xx heads, which are dropped).
      const reason = this.#heads.response(existing, fields, endStream, tooLarge);
      if (reason === null) return;
      if (reason) return this.#streamError(existing, ErrorCode.PROTOCOL_ERROR, reason);
      return existing.receiveHeaders(fields, endStream);
    }
    if (this.role === "client") {
      if (this.#streams.isIdle(id)) {
        throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, `HEADERS on idle stream ${id}`);
      }
      return; // a stream we reset or finished (§5.1: ignored)
    }
    // Server: a new request stream.
    if (!this.#streams.acceptPeerId(id)) return; // closed: trailers in flight after our reset
    if (this.#goawaySent || this.#streams.size >= this.#local.maxConcurrentStreams) {
      return this.#refuse(id, ErrorCode.REFUSED_STREAM);
    }
    if (selfDep) return this.#refuse(id, ErrorCode.PROTOCOL_ERROR);
    const stream = new H2Stream(id, this, this.#peer.peerInitialWindow);
    this.#streams.add(stream);
    this.#disarmIdle();
    const reason = this.#heads.request(stream, fields, endStream, tooLarge);
    stream.receiveHeaders(fields, endStream);
    try {
      if (!reason) this.#o.onStream?.(stream);
      else if (this.#o.onMalformed) this.#o.onMalformed(stream, reason);
      else stream.reset(ErrorCode.PROTOCOL_ERROR);
    } catch (err) {
      this.#o.log.warn("http2 stream handler failed", { stream: id, err });
      stream.reset(ErrorCode.INTERNAL_ERROR);
    }
  }

  #priority(id: number, b: Uint8Array, s: number, e: number): void {
    requireStream(id, "PRIORITY");
    const bad = e - s !== 5
      ? ErrorCode.FRAME_SIZE_ERROR
      : readU31(b, s) === id
      ? ErrorCode.PROTOCOL_ERROR
      : 0;
    if (bad === 0) return; // priorities are not used (§5.3.2)
    const stream = this.#streams.get(id);
    if (stream) this.#streamError(stream, bad, "bad PRIORITY frame");
    else this.#refuse(id, bad);
  }

  #rstStream(id: number, b: Uint8Array, s: number, e: number): void {
    requireStream(id, "RST_STREAM");
    requireLength(s, e, 4, "RST_STREAM");
    const stream = this.#streams.find(id, "RST_STREAM");
    if (!stream) return;
    this.#guard.chargeReset();
    const code = readU32(b, s);
    stream.fail(new H2StreamError(code, `The peer reset the stream (code ${code})`));
  }

  #settings(flags: number, id: number, b: Uint8Array, s: number, e: number): void {
    requireConnection(id, "SETTINGS");
    if (flags & Flag.ACK) {
      if (e !== s) {
        throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "SETTINGS ACK with payload");
      }
      return;
    }
    this.#peer.apply(b, s, e, this.#streams);
    this.#guard.checkBacklog();
    this.#w.frame(FrameType.SETTINGS, Flag.ACK, 0);
  }

  #ping(flags: number, id: number, b: Uint8Array, s: number, e: number): void {
    requireConnection(id, "PING");
    requireLength(s, e, 8, "PING");
    if (flags & Flag.ACK) return this.#drain.acked(b, s);
    this.#guard.checkBacklog();
    this.#w.frame(FrameType.PING, Flag.ACK, 0, b, s, e);
  }

  #goawayFrame(id: number, b: Uint8Array, s: number, e: number): void {
    requireConnection(id, "GOAWAY");
    if (e - s < 8) throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "bad GOAWAY");
    this.#goawayReceived = true;
    const last = readU31(b, s);
    const code = readU32(b, s + 4);
    this.#streams.failUnprocessed(last, code);
    if (this.#streams.size === 0) this.#die(ErrorCode.NO_ERROR, "GOAWAY", false);
  }

  #windowUpdateFrame(id: number, b: Uint8Array, s: number, e: number): void {
    requireLength(s, e, 4, "WINDOW_UPDATE");
    const inc = readU31(b, s);
    if (id === 0) {
      if (inc === 0) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "zero window increment");
      if (!growSendWindow(this.#flow, inc)) {
        throw new H2ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "connection window overflow");
      }
      this.#parked.wakeAll();
      return;
    }
    const stream = this.#streams.find(id, "WINDOW_UPDATE");
    if (!stream) return;
    if (inc === 0) {
      return this.#streamError(stream, ErrorCode.PROTOCOL_ERROR, "zero window increment");
    }
    if (!growSendWindow(stream, inc)) {
      return this.#streamError(stream, ErrorCode.FLOW_CONTROL_ERROR, "stream window overflow");
    }
    stream.windowOpened();
  }

  // ---- helpers -------------------------------------------------------------------------

  /** Resets a stream because of something the peer sent (§5.4.2). */
  #streamError(stream: H2Stream, code: number, message: string): void {
    this.#guard.chargeReset();
    this.#guard.checkBacklog();
    stream.reset(code);
    this.#o.log.debug("http2 stream error", { stream: stream.id, code, detail: message });
  }

  /** Resets a stream the peer opened that we never took up. */
  #refuse(id: number, code: number): void {
    this.#guard.chargeReset();
    this.#guard.checkBacklog();
    this.#w.u32Frame(FrameType.RST_STREAM, 0, id, code);
  }

  #goaway(code: number, message: string): void {
    // A later GOAWAY never raises the last stream id (§6.8): streams refused since stay so.
    if (!this.#goawaySent) this.#goawayLast = this.#streams.lastPeerStream;
    this.#goawaySent = true;
    this.#w.goaway(this.#goawayLast, code, message);
  }

  #armIdle(): void {
    const ms = this.#o.idleTimeoutMs ?? 0;
    if (ms <= 0 || this.#closed) return;
    if (this.#idleTimer) this.#o.wheel.reschedule(this.#idleTimer, ms);
    else this.#idleTimer = this.#o.wheel.schedule(ms, () => this.shutdown());
  }

  #disarmIdle(): void {
    this.#idleTimer?.cancel();
  }

  #closedError(): H2StreamError {
    return new H2StreamError(
      ErrorCode.CANCEL,
      `The HTTP/2 connection closed${this.#closeReason ? `: ${this.#closeReason.message}` : ""}`,
    );
  }

  /**
   * Ends the connection: GOAWAY (when `notify`), fail open streams, close the socket once
   * the last frames are out — or after a grace period, for a peer that does not read.
   */
  #die(code: number, message: string, notify = true): void {
    if (this.#closed) return;
    if (notify && !this.#w.failed && (!this.#goawaySent || code !== ErrorCode.NO_ERROR)) {
      this.#goaway(code, message);
    }
    this.#closed = true;
    this.#closeReason = new H2ConnectionError(code, message);
    this.#idleTimer?.cancel();
    this.#drain.cancel();
    this.#block.clear();
    if (code !== ErrorCode.NO_ERROR) {
      this.#o.log.debug("http2 connection error", { code, detail: message, role: this.role });
    }
    this.#streams.failAll(() => this.#closedError());
    this.#parked.wakeAll();
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      grace.cancel();
      try {
        this.#o.conn.close();
      } catch { /* already closed */ }
      this.#done.resolve();
    };
    const grace = this.#o.wheel.schedule(CLOSE_GRACE_MS, finish);
    this.#w.drained().then(finish);
  }
}
