import { ConnReader } from "../../net/conn_reader.ts";
import { DrainGoaway } from "./_drain_goaway.ts";
import { FloodGuard } from "./_flood_guard.ts";
import { FlowControl } from "./_flow_control.ts";
import { GoawayState } from "./_goaway_state.ts";
import type { H2ConnectionOptions } from "./_h2_connection_options.ts";
import { HeaderBlock } from "./_header_block.ts";
import { IdleTimer } from "./_idle_timer.ts";
import { InboundFrames } from "./_inbound_frames.ts";
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
} from "./frame.ts";
import { FrameWriter } from "./frame_writer.ts";
import { DEFAULT_SETTINGS, type H2Settings } from "./h2_settings.ts";
import { HpackEncoder } from "./hpack_encoder.ts";
import { HpackError } from "./hpack_error.ts";
import { H2Stream, type StreamOwner } from "./h2_stream.ts";

export type { H2ConnectionOptions } from "./_h2_connection_options.ts";
export { DEFAULT_SETTINGS, type H2Settings } from "./h2_settings.ts";

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
  readonly #streams: StreamTable;
  readonly #peer: SettingsExchange;
  readonly #flow: FlowControl;
  /** Header blocks the peer sends (one in progress over HEADERS + CONTINUATION). */
  readonly #block: HeaderBlock;
  /** Writers waiting on the connection (its send window, or the socket to drain). */
  readonly #parked: ParkedWriters;
  /** A graceful drain between its first GOAWAY and the final one. */
  readonly #drain = new DrainGoaway();
  /** The GOAWAY frames sent and received. */
  readonly #goaway: GoawayState;
  /** Shuts the connection down after `idleTimeoutMs` without open streams. */
  readonly #idle: IdleTimer;
  /** What the peer's frames do, all but GOAWAY. */
  readonly #in: InboundFrames;
  #closed = false;
  #closeReason: H2ConnectionError | null = null;
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
    const guard = new FloodGuard(this.#w, {
      limitResets: opts.role === "server",
      maxResetBurst: l.maxResetBurst,
      resetRefillPerSecond: l.resetRefillPerSecond,
      now: opts.now ?? (() => opts.wheel.now()),
    });
    this.#block = new HeaderBlock(l.maxHeaderListSize);
    this.#parked = new ParkedWriters(this.#w);
    this.#goaway = new GoawayState(this.#w, this.#streams);
    this.#idle = new IdleTimer(opts, this);
    this.#in = new InboundFrames({
      role: opts.role,
      owner: this,
      o: opts,
      local: l,
      w: this.#w,
      streams: this.#streams,
      peer: this.#peer,
      flow: this.#flow,
      guard,
      block: this.#block,
      parked: this.#parked,
      drain: this.#drain,
      goaway: this.#goaway,
      idle: this.#idle,
    });
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
    return !this.#closed && !this.#goaway.received && !this.#goaway.sent &&
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
    this.#idle.arm();
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
    this.#idle.disarm();
    s.sendHeaders(headers, endStream);
    return s;
  }

  /** Stops taking new streams (GOAWAY NO_ERROR) and closes once open streams finish. */
  shutdown(): void {
    if (this.#closed) return;
    this.#drain.cancel();
    if (!this.#goaway.sent) this.#goaway.send(ErrorCode.NO_ERROR, "");
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
    if (this.#closed || this.#goaway.sent) return;
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
      if (this.#goaway.sent || this.#goaway.received) {
        this.#die(ErrorCode.NO_ERROR, "drained", false);
      } else {
        this.#idle.arm();
      }
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
        return this.#in.data(flags, id, b, s, e);
      case FrameType.HEADERS:
        return this.#in.headers(flags, id, b, s, e);
      case FrameType.CONTINUATION:
        return this.#in.continuation(flags, id, b, s, e);
      case FrameType.RST_STREAM:
        return this.#in.rstStream(id, b, s, e);
      case FrameType.SETTINGS:
        return this.#in.settings(flags, id, b, s, e);
      case FrameType.PING:
        return this.#in.ping(flags, id, b, s, e);
      case FrameType.GOAWAY:
        return this.#goawayFrame(id, b, s, e);
      case FrameType.WINDOW_UPDATE:
        return this.#in.windowUpdate(id, b, s, e);
      case FrameType.PRIORITY:
        return this.#in.priority(id, b, s, e);
      case FrameType.PUSH_PROMISE:
        throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "PUSH_PROMISE is disabled");
      default:
        return; // unknown frame types are ignored (RFC 9113 §4.1)
    }
  }

  /** A GOAWAY frame: the connection ends once no stream is left. */
  #goawayFrame(id: number, b: Uint8Array, s: number, e: number): void {
    this.#goaway.receive(id, b, s, e);
    if (this.#streams.size === 0) this.#die(ErrorCode.NO_ERROR, "GOAWAY", false);
  }

  // ---- helpers -------------------------------------------------------------------------

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
    if (notify && !this.#w.failed && (!this.#goaway.sent || code !== ErrorCode.NO_ERROR)) {
      this.#goaway.send(code, message);
    }
    this.#closed = true;
    this.#closeReason = new H2ConnectionError(code, message);
    this.#idle.stop();
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
