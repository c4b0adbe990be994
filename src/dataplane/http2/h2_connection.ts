import type { Logger } from "../../core/logger.ts";
import type { Timer } from "../../core/clock.ts";
import type { TimerWheel } from "../../core/timer_wheel.ts";
import { ConnReader } from "../../net/conn_reader.ts";
import {
  DEFAULT_MAX_FRAME_SIZE,
  ErrorCode,
  type FieldInfo,
  Flag,
  FRAME_HEADER,
  FrameType,
  H2ConnectionError,
  H2StreamError,
  MAX_WINDOW,
  PREFACE,
  readU31,
  readU32,
  Setting,
  validateRequest,
  validateResponse,
  validateTrailers,
  writeU32,
} from "./frame.ts";
import { FrameWriter } from "./frame_writer.ts";
import { HpackDecoder } from "./hpack_decoder.ts";
import { HpackEncoder } from "./hpack_encoder.ts";
import { HpackError } from "./hpack_error.ts";
import { H2Stream, type StreamOwner } from "./h2_stream.ts";
import { Slab } from "./slab.ts";

/** Our side of the settings, and limits we enforce. */
export interface H2Settings {
  /** Streams the peer may open at once (server) — advertised. */
  maxConcurrentStreams: number;
  /** Receive window per stream, advertised as SETTINGS_INITIAL_WINDOW_SIZE. */
  initialWindowSize: number;
  /** Receive window of the whole connection. */
  connectionWindowSize: number;
  /** Largest header list we accept (decoded size), advertised. */
  maxHeaderListSize: number;
  /**
   * Server: streams the client may reset, or make us reset by breaking the rules, in one
   * burst before the connection ends with GOAWAY ENHANCE_YOUR_CALM ("rapid reset",
   * CVE-2023-44487).
   */
  maxResetBurst: number;
  /** Server: how fast that allowance refills, in streams per second. */
  resetRefillPerSecond: number;
}

/**
 * Defaults: 256 streams, 1 MiB per stream, 16 MiB per connection, 64 KiB of headers; a
 * client may reset 1000 streams in a burst, 100 more per second.
 */
export const DEFAULT_SETTINGS: H2Settings = {
  maxConcurrentStreams: 256,
  initialWindowSize: 1 << 20,
  connectionWindowSize: 16 << 20,
  maxHeaderListSize: 64 * 1024,
  maxResetBurst: 1000,
  resetRefillPerSecond: 100,
};

/** What an HTTP/2 connection needs. */
export interface H2ConnectionOptions {
  role: "server" | "client";
  conn: {
    read(p: Uint8Array): Promise<number | null>;
    write(p: Uint8Array): Promise<number>;
    close(): void;
  };
  /** A reader holding bytes already read from `conn` (the preface, after detection). */
  reader?: ConnReader;
  settings?: Partial<H2Settings>;
  wheel: TimerWheel;
  /** Monotonic milliseconds, read only when the peer resets streams (default: the wheel's). */
  now?: () => number;
  log: Logger;
  /** Server: a new stream with its request headers (pseudo-headers included, validated). */
  onStream?: (stream: H2Stream) => void;
  /** A stream's first header block was malformed: answer (server) or fail (client). */
  onMalformed?: (stream: H2Stream, reason: string) => void;
  /** Closes the connection after this long without open streams (0: never). */
  idleTimeoutMs?: number;
}

const EMPTY = new Uint8Array(0);

/** Control frames we may owe a peer that does not read them before it must go. */
const MAX_QUEUED_CONTROL = 10_000;
/** CONTINUATION frames one header block may take (each must make progress). */
const MAX_CONTINUATIONS = 512;
/** Bytes queued for the socket above which writers wait for it to drain. */
const WRITE_BACKPRESSURE = 1 << 20;
/** How long a closing connection waits for its last frames to go out. */
const CLOSE_GRACE_MS = 1_000;
/** Streams a client may open before the server's SETTINGS arrive (RFC 9113 §6.5.2 advice). */
const ASSUMED_MAX_STREAMS = 100;

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
  readonly #decoder: HpackDecoder;
  readonly #encoder = new HpackEncoder();
  readonly #slab = new Slab();
  readonly #streams = new Map<number, H2Stream>();
  readonly #info: FieldInfo = { contentLength: -1 };
  // Peer settings.
  #peerSettingsSeen = false;
  #peerMaxFrame = DEFAULT_MAX_FRAME_SIZE;
  #peerInitialWindow = 65_535;
  #peerMaxStreams: number;
  // Flow control.
  #sendWindow = 65_535;
  #recvUnacked = 0; // consumed, not yet returned with WINDOW_UPDATE
  #recvInFlight = 0; // received, not yet returned with WINDOW_UPDATE
  /** Writers waiting on the connection (its send window, or the socket to drain). */
  #parked: H2Stream[] = [];
  #drainArmed = false;
  // Streams.
  #lastPeerStream = 0;
  #nextLocalStream: number;
  #goawayReceived = false;
  #goawaySent = false;
  /** The last stream id of the first GOAWAY we sent. */
  #goawayLast = 0;
  #closed = false;
  #closeReason: H2ConnectionError | null = null;
  // Resets the peer caused (server): a token bucket.
  #resetTokens: number;
  #resetStamp = -1;
  // A header block in progress (HEADERS + CONTINUATION).
  #blockStream = 0;
  #blockFlags = 0;
  #blockSelfDep = false;
  #blockFrames = 0;
  #block: Uint8Array | null = null;
  #blockLen = 0;
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
    this.#decoder = new HpackDecoder(4096, this.#local.maxHeaderListSize);
    this.#nextLocalStream = opts.role === "client" ? 1 : 2;
    this.#peerMaxStreams = opts.role === "client" ? ASSUMED_MAX_STREAMS : Infinity;
    this.#resetTokens = this.#local.maxResetBurst;
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
      this.#streams.size < this.#peerMaxStreams && this.#nextLocalStream < MAX_WINDOW;
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
    this.#sendSettings();
    const extra = this.#local.connectionWindowSize - 65_535;
    if (extra > 0) this.#windowUpdate(0, extra);
    this.#armIdle();
    try {
      if (this.role === "server") await this.#readPreface();
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
    const id = this.#nextLocalStream;
    this.#nextLocalStream += 2;
    const s = new H2Stream(id, this, this.#peerInitialWindow);
    for (let i = 0; i < headers.length && headers[i].charCodeAt(0) === 58; i += 2) {
      if (headers[i] === ":method") s.headRequest = headers[i + 1] === "HEAD";
    }
    this.#streams.set(id, s);
    this.#disarmIdle();
    s.sendHeaders(headers, endStream);
    return s;
  }

  /** Stops taking new streams (GOAWAY NO_ERROR) and closes once open streams finish. */
  shutdown(): void {
    if (this.#closed) return;
    if (!this.#goawaySent) this.#goaway(ErrorCode.NO_ERROR, "");
    if (this.#streams.size === 0) this.#die(ErrorCode.NO_ERROR, "shut down", false);
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
    const max = this.#peerMaxFrame;
    let flags = endStream ? Flag.END_STREAM : 0;
    if (block.length <= max) {
      this.#w.frame(FrameType.HEADERS, flags | Flag.END_HEADERS, stream.id, block);
      return;
    }
    this.#w.frame(FrameType.HEADERS, flags, stream.id, block, 0, max);
    for (let at = max; at < block.length; at += max) {
      const end = Math.min(block.length, at + max);
      flags = end === block.length ? Flag.END_HEADERS : 0;
      this.#w.frame(FrameType.CONTINUATION, flags, stream.id, block, at, end);
    }
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
        n = Math.min(total - at, this.#peerMaxFrame, stream.sendWindow, this.#sendWindow);
        if (n <= 0) {
          await (stream.sendWindow <= 0 ? stream.waitWindow() : this.#park(stream));
          continue;
        }
        stream.sendWindow -= n;
        this.#sendWindow -= n;
      }
      at += n;
      const flags = at === total && endStream ? Flag.END_STREAM : 0;
      this.#w.frame(FrameType.DATA, flags, stream.id, data, at - n, at);
      if (at === total) break;
    }
    // Backpressure: do not let fast producers queue unbounded bytes for a slow socket.
    while (this.#w.buffered > WRITE_BACKPRESSURE && !this.#closed && !stream.error) {
      if (!this.#drainArmed) {
        this.#drainArmed = true;
        this.#w.drained().then(() => {
          this.#drainArmed = false;
          this.#wakeParked();
        });
      }
      await this.#park(stream);
    }
  }

  reset(stream: H2Stream, code: number): void {
    if (this.#closed) return;
    const [buf, at] = this.#w.frameInPlace(FrameType.RST_STREAM, 0, stream.id, 4);
    writeU32(buf, at, code);
  }

  consumed(stream: H2Stream, n: number): void {
    if (this.#closed) return;
    this.#recvUnacked += n;
    this.#flushConnectionWindow();
    // No more data will come on a stream that ended or failed: its window stays shut.
    if (stream.remoteEnded || stream.error) return;
    stream.recvUnacked += n;
    if (stream.recvUnacked >= this.#local.initialWindowSize / 2) {
      this.#windowUpdate(stream.id, stream.recvUnacked);
      stream.recvInFlight -= stream.recvUnacked;
      stream.recvUnacked = 0;
    }
  }

  streamClosed(stream: H2Stream): void {
    if (this.#streams.get(stream.id) === stream) this.#streams.delete(stream.id);
    if (this.#streams.size === 0) {
      if (this.#goawaySent || this.#goawayReceived) this.#die(ErrorCode.NO_ERROR, "drained", false);
      else this.#armIdle();
    }
  }

  callbackFailed(stream: H2Stream, err: unknown): void {
    this.#o.log.warn("http2 stream callback failed", { stream: stream.id, err });
  }

  // ---- reading -------------------------------------------------------------------------

  async #readPreface(): Promise<void> {
    const r = this.#reader;
    // A client speaking anything else is told at its first wrong byte, not after 24.
    while (r.available < PREFACE.length && this.#prefaceSoFar()) {
      if ((await r.fill()) === 0) {
        throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "no preface");
      }
    }
    if (!this.#prefaceSoFar()) {
      throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "bad connection preface");
    }
    r.consume(PREFACE.length);
  }

  /** True while the buffered bytes match the preface as far as they go. */
  #prefaceSoFar(): boolean {
    const r = this.#reader;
    const n = Math.min(r.available, PREFACE.length);
    for (let i = 0; i < n; i++) if (r.buf[r.start + i] !== PREFACE[i]) return false;
    return true;
  }

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
    if (this.#block !== null && type !== FrameType.CONTINUATION) {
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

  /** Strips padding (and the priority fields of HEADERS) from a payload (§6.1, §6.2). */
  #unpad(flags: number, b: Uint8Array, s: number, e: number, priority: boolean): [number, number] {
    let pad = 0;
    if (flags & Flag.PADDED) {
      if (e - s < 1) {
        throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "padded frame too short");
      }
      pad = b[s++];
    }
    if (priority) {
      if (e - s < 5) throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "HEADERS too short");
      s += 5;
    }
    if (s + pad > e) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "padding too long");
    return [s, e - pad];
  }

  #data(flags: number, id: number, b: Uint8Array, s: number, e: number): void {
    if (id === 0) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "DATA on stream 0");
    const size = e - s; // flow control counts the whole payload, padding included
    [s, e] = this.#unpad(flags, b, s, e, false);
    this.#recvInFlight += size;
    if (this.#recvInFlight > this.#local.connectionWindowSize) {
      throw new H2ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "connection window exceeded");
    }
    const stream = this.#streams.get(id);
    if (!stream) {
      if (this.#idleStream(id)) {
        throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "DATA on an idle stream");
      }
      // A stream we reset or finished: frames in flight are ignored, the window returned.
      this.#ackConnection(size);
      return;
    }
    // From here on, a stream error hands this frame's bytes back to the connection window
    // (the stream's queued bytes go back when it fails).
    if (stream.headers === null) {
      this.#ackConnection(size);
      return this.#streamError(stream, ErrorCode.PROTOCOL_ERROR, "DATA before HEADERS");
    }
    if (stream.remoteEnded) {
      this.#ackConnection(size);
      return this.#streamError(stream, ErrorCode.STREAM_CLOSED, "DATA after the end");
    }
    stream.recvInFlight += size;
    if (stream.recvInFlight > this.#local.initialWindowSize) {
      this.#ackConnection(size);
      return this.#streamError(stream, ErrorCode.FLOW_CONTROL_ERROR, "stream window exceeded");
    }
    const endStream = (flags & Flag.END_STREAM) !== 0;
    const len = e - s;
    if (stream.expectedLength >= 0) {
      const total = stream.bytesIn + len;
      if (total > stream.expectedLength || (endStream && total !== stream.expectedLength)) {
        this.#ackConnection(size);
        return this.#streamError(stream, ErrorCode.PROTOCOL_ERROR, "content-length mismatch");
      }
    }
    const chunk = len > 0 ? this.#slab.copy(b, s, e) : EMPTY;
    // Padding counts as consumed at once; data when the application reads it.
    if (size > len) this.consumed(stream, size - len);
    stream.receiveData(chunk, endStream);
  }

  /** Returns connection-level receive window for bytes no stream will consume. */
  #ackConnection(n: number): void {
    this.#recvUnacked += n;
    this.#flushConnectionWindow();
  }

  #flushConnectionWindow(): void {
    if (this.#recvUnacked >= this.#local.connectionWindowSize / 2) {
      this.#windowUpdate(0, this.#recvUnacked);
      this.#recvInFlight -= this.#recvUnacked;
      this.#recvUnacked = 0;
    }
  }

  #headers(flags: number, id: number, b: Uint8Array, s: number, e: number): void {
    if (id === 0) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "HEADERS on stream 0");
    const priority = (flags & Flag.PRIORITY) !== 0;
    const depAt = flags & Flag.PADDED ? s + 1 : s;
    [s, e] = this.#unpad(flags, b, s, e, priority);
    const selfDep = priority && readU31(b, depAt) === id;
    if (flags & Flag.END_HEADERS) return this.#headerBlock(id, flags, selfDep, b, s, e);
    this.#blockStream = id;
    this.#blockFlags = flags;
    this.#blockSelfDep = selfDep;
    this.#blockFrames = 0;
    this.#block = new Uint8Array(Math.max(4096, (e - s) * 2));
    this.#block.set(b.subarray(s, e));
    this.#blockLen = e - s;
  }

  #continuation(flags: number, id: number, b: Uint8Array, s: number, e: number): void {
    if (this.#block === null || id !== this.#blockStream) {
      throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "unexpected CONTINUATION");
    }
    const need = this.#blockLen + (e - s);
    if (need > this.#local.maxHeaderListSize * 2 || ++this.#blockFrames > MAX_CONTINUATIONS) {
      throw new H2ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, "header block too large");
    }
    if (need > this.#block.length) {
      const bigger = new Uint8Array(need * 2);
      bigger.set(this.#block.subarray(0, this.#blockLen));
      this.#block = bigger;
    }
    this.#block.set(b.subarray(s, e), this.#blockLen);
    this.#blockLen = need;
    if (flags & Flag.END_HEADERS) {
      const block = this.#block;
      this.#block = null;
      this.#headerBlock(id, this.#blockFlags, this.#blockSelfDep, block, 0, this.#blockLen);
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
    // Decode first, whatever becomes of the stream: the HPACK table must stay in step.
    let fields: string[];
    let tooLarge = false;
    try {
      fields = this.#decoder.decode(b, s, e);
    } catch (err) {
      if (err instanceof HpackError && err.tooLarge) {
        tooLarge = true;
        fields = [];
      } else throw err;
    }
    const info = this.#info;
    const existing = this.#streams.get(id);
    if (existing) {
      if (selfDep) {
        return this.#streamError(existing, ErrorCode.PROTOCOL_ERROR, "stream depends on itself");
      }
      if (existing.remoteEnded) {
        return this.#streamError(existing, ErrorCode.STREAM_CLOSED, "HEADERS after the end");
      }
      if (existing.headers !== null) {
        // Trailers (§8.1): they end the stream and carry no pseudo-header fields.
        const reason = !endStream
          ? "trailers_without_end_stream"
          : tooLarge
          ? "trailers_too_large"
          : validateTrailers(fields, info) ||
            (existing.expectedLength >= 0 && existing.bytesIn !== existing.expectedLength
              ? "content_length_mismatch"
              : "");
        if (reason) return this.#streamError(existing, ErrorCode.PROTOCOL_ERROR, reason);
        return existing.receiveTrailers(fields);
      }
      // Client: a response head (maybe after 1xx heads).
      const reason = tooLarge ? "headers_too_large" : validateResponse(fields, info);
      if (reason) return this.#streamError(existing, ErrorCode.PROTOCOL_ERROR, reason);
      const status = Number(fields[1]);
      if (status < 200) {
        // Interim responses are dropped; one that ends the stream, or 101, is malformed
        // (§8.1, §8.6).
        if (endStream || status === 101) {
          return this.#streamError(existing, ErrorCode.PROTOCOL_ERROR, "bad_interim_response");
        }
        return;
      }
      const bodyless = existing.headRequest || status === 204 || status === 304;
      existing.expectedLength = bodyless ? -1 : info.contentLength;
      if (endStream && existing.expectedLength > 0) {
        return this.#streamError(existing, ErrorCode.PROTOCOL_ERROR, "content_length_mismatch");
      }
      return existing.receiveHeaders(fields, endStream);
    }
    if (this.role === "client") {
      if (this.#idleStream(id)) {
        throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, `HEADERS on idle stream ${id}`);
      }
      return; // a stream we reset or finished (§5.1: ignored)
    }
    // Server: a new request stream.
    if ((id & 1) === 0) {
      throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, `bad stream id ${id}`);
    }
    if (id <= this.#lastPeerStream) return; // closed: trailers in flight after our reset
    this.#lastPeerStream = id;
    if (this.#goawaySent || this.#streams.size >= this.#local.maxConcurrentStreams) {
      return this.#refuse(id, ErrorCode.REFUSED_STREAM);
    }
    if (selfDep) return this.#refuse(id, ErrorCode.PROTOCOL_ERROR);
    const stream = new H2Stream(id, this, this.#peerInitialWindow);
    this.#streams.set(id, stream);
    this.#disarmIdle();
    let reason = tooLarge ? "headers_too_large" : validateRequest(fields, info);
    if (!reason) {
      stream.expectedLength = info.contentLength;
      if (endStream && info.contentLength > 0) reason = "content_length_mismatch";
    }
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
    if (id === 0) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "PRIORITY on stream 0");
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
    if (id === 0) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "RST_STREAM on stream 0");
    if (e - s !== 4) throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "bad RST_STREAM");
    const stream = this.#streams.get(id);
    if (!stream) {
      if (this.#idleStream(id)) {
        throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "RST_STREAM on an idle stream");
      }
      return;
    }
    this.#chargeReset();
    const code = readU32(b, s);
    stream.fail(new H2StreamError(code, `The peer reset the stream (code ${code})`));
  }

  #settings(flags: number, id: number, b: Uint8Array, s: number, e: number): void {
    if (id !== 0) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "SETTINGS on a stream");
    if (flags & Flag.ACK) {
      if (e !== s) {
        throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "SETTINGS ACK with payload");
      }
      return;
    }
    if ((e - s) % 6 !== 0) throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "bad SETTINGS");
    if (!this.#peerSettingsSeen) {
      this.#peerSettingsSeen = true;
      this.#peerMaxStreams = Infinity; // unless the frame says otherwise
    }
    for (let p = s; p < e; p += 6) {
      const key = (b[p] << 8) | b[p + 1];
      const value = readU32(b, p + 2);
      switch (key) {
        case Setting.HEADER_TABLE_SIZE:
          this.#encoder.setMaxTableSize(Math.min(value, 4096));
          break;
        case Setting.ENABLE_PUSH:
          if (value > 1 || (value === 1 && this.role === "client")) {
            throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "bad ENABLE_PUSH");
          }
          break;
        case Setting.MAX_CONCURRENT_STREAMS:
          this.#peerMaxStreams = value;
          break;
        case Setting.INITIAL_WINDOW_SIZE: {
          if (value > MAX_WINDOW) {
            throw new H2ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "window too large");
          }
          const delta = value - this.#peerInitialWindow;
          this.#peerInitialWindow = value;
          for (const st of this.#streams.values()) {
            st.sendWindow += delta;
            if (st.sendWindow > MAX_WINDOW) {
              throw new H2ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "window overflow");
            }
            if (delta > 0) st.windowOpened();
          }
          break;
        }
        case Setting.MAX_FRAME_SIZE:
          if (value < DEFAULT_MAX_FRAME_SIZE || value > 16_777_215) {
            throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "bad MAX_FRAME_SIZE");
          }
          this.#peerMaxFrame = Math.min(value, 64 * 1024);
          break;
        default:
          break; // MAX_HEADER_LIST_SIZE is advisory; unknown settings are ignored
      }
    }
    this.#checkBacklog();
    this.#w.frame(FrameType.SETTINGS, Flag.ACK, 0);
  }

  #ping(flags: number, id: number, b: Uint8Array, s: number, e: number): void {
    if (id !== 0) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "PING on a stream");
    if (e - s !== 8) throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "bad PING");
    if (flags & Flag.ACK) return;
    this.#checkBacklog();
    this.#w.frame(FrameType.PING, Flag.ACK, 0, b, s, e);
  }

  #goawayFrame(id: number, b: Uint8Array, s: number, e: number): void {
    if (id !== 0) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "GOAWAY on a stream");
    if (e - s < 8) throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "bad GOAWAY");
    this.#goawayReceived = true;
    const last = readU31(b, s);
    const code = readU32(b, s + 4);
    // Streams the peer never processed may be retried elsewhere.
    const ours = this.role === "client" ? 1 : 0;
    for (const st of [...this.#streams.values()]) {
      if (st.id > last && (st.id & 1) === ours) {
        st.fail(
          new H2StreamError(ErrorCode.REFUSED_STREAM, `GOAWAY (code ${code}) before the stream`),
        );
      }
    }
    if (this.#streams.size === 0) this.#die(ErrorCode.NO_ERROR, "GOAWAY", false);
  }

  #windowUpdateFrame(id: number, b: Uint8Array, s: number, e: number): void {
    if (e - s !== 4) throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "bad WINDOW_UPDATE");
    const inc = readU31(b, s);
    if (id === 0) {
      if (inc === 0) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "zero window increment");
      this.#sendWindow += inc;
      if (this.#sendWindow > MAX_WINDOW) {
        throw new H2ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "connection window overflow");
      }
      this.#wakeParked();
      return;
    }
    const stream = this.#streams.get(id);
    if (!stream) {
      if (this.#idleStream(id)) {
        throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "WINDOW_UPDATE on an idle stream");
      }
      return;
    }
    if (inc === 0) {
      return this.#streamError(stream, ErrorCode.PROTOCOL_ERROR, "zero window increment");
    }
    stream.sendWindow += inc;
    if (stream.sendWindow > MAX_WINDOW) {
      return this.#streamError(stream, ErrorCode.FLOW_CONTROL_ERROR, "stream window overflow");
    }
    stream.windowOpened();
  }

  // ---- helpers -------------------------------------------------------------------------

  /** A stream id the peer could still open (never used): frames on it are errors. */
  #idleStream(id: number): boolean {
    const peerOpens = this.role === "server" ? (id & 1) === 1 : (id & 1) === 0;
    return peerOpens ? id > this.#lastPeerStream : id >= this.#nextLocalStream;
  }

  /** Resets a stream because of something the peer sent (§5.4.2). */
  #streamError(stream: H2Stream, code: number, message: string): void {
    this.#chargeReset();
    this.#checkBacklog();
    stream.reset(code);
    this.#o.log.debug("http2 stream error", { stream: stream.id, code, detail: message });
  }

  /** Resets a stream the peer opened that we never took up. */
  #refuse(id: number, code: number): void {
    this.#chargeReset();
    this.#checkBacklog();
    const [buf, at] = this.#w.frameInPlace(FrameType.RST_STREAM, 0, id, 4);
    writeU32(buf, at, code);
  }

  /**
   * Server: takes one token from the reset allowance for a stream the peer reset or made
   * us reset; an empty bucket ends the connection (rapid reset, CVE-2023-44487).
   */
  #chargeReset(): void {
    if (this.role !== "server") return;
    const l = this.#local;
    const now = this.#o.now ? this.#o.now() : this.#o.wheel.now();
    if (this.#resetStamp >= 0 && now > this.#resetStamp) {
      const refill = (now - this.#resetStamp) * l.resetRefillPerSecond / 1000;
      this.#resetTokens = Math.min(l.maxResetBurst, this.#resetTokens + refill);
    }
    this.#resetStamp = now;
    if (--this.#resetTokens < 0) {
      throw new H2ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, "too many stream resets");
    }
  }

  /** Ends a peer that makes us queue answers it does not read (ping/settings/reset floods). */
  #checkBacklog(): void {
    if (this.#w.controlBacklog >= MAX_QUEUED_CONTROL) {
      throw new H2ConnectionError(
        ErrorCode.ENHANCE_YOUR_CALM,
        "the peer does not read the frames it asks for",
      );
    }
  }

  #sendSettings(): void {
    const l = this.#local;
    const entries: [number, number][] = [
      [Setting.MAX_CONCURRENT_STREAMS, l.maxConcurrentStreams],
      [Setting.INITIAL_WINDOW_SIZE, l.initialWindowSize],
      [Setting.MAX_HEADER_LIST_SIZE, l.maxHeaderListSize],
      [Setting.ENABLE_PUSH, 0],
    ];
    const [buf, at] = this.#w.frameInPlace(FrameType.SETTINGS, 0, 0, entries.length * 6);
    entries.forEach(([k, v], i) => {
      buf[at + i * 6] = k >> 8;
      buf[at + i * 6 + 1] = k & 0xff;
      writeU32(buf, at + i * 6 + 2, v);
    });
  }

  #windowUpdate(id: number, inc: number): void {
    const [buf, at] = this.#w.frameInPlace(FrameType.WINDOW_UPDATE, 0, id, 4);
    writeU32(buf, at, inc);
  }

  #goaway(code: number, message: string): void {
    // A later GOAWAY never raises the last stream id (§6.8): streams refused since stay so.
    if (!this.#goawaySent) this.#goawayLast = this.#lastPeerStream;
    this.#goawaySent = true;
    const debug = new TextEncoder().encode(message.slice(0, 200));
    const [buf, at] = this.#w.frameInPlace(FrameType.GOAWAY, 0, 0, 8 + debug.length);
    writeU32(buf, at, this.#goawayLast);
    writeU32(buf, at + 4, code);
    buf.set(debug, at + 8);
  }

  /** Waits until the connection has news for a blocked writer (window, drain, close). */
  #park(stream: H2Stream): Promise<void> {
    if (!stream.parked) {
      stream.parked = true;
      this.#parked.push(stream);
    }
    return stream.waitWindow();
  }

  #wakeParked(): void {
    const list = this.#parked;
    for (let i = 0; i < list.length; i++) {
      list[i].parked = false;
      list[i].windowOpened();
    }
    list.length = 0;
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
    this.#block = null;
    if (code !== ErrorCode.NO_ERROR) {
      this.#o.log.debug("http2 connection error", { code, detail: message, role: this.role });
    }
    for (const st of [...this.#streams.values()]) st.fail(this.#closedError());
    this.#streams.clear();
    this.#wakeParked();
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
