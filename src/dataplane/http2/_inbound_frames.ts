import type { DrainGoaway } from "./_drain_goaway.ts";
import type { FloodGuard } from "./_flood_guard.ts";
import { type FlowControl, growSendWindow } from "./_flow_control.ts";
import {
  contentEnd,
  contentStart,
  requireConnection,
  requireLength,
  requireStream,
} from "./_frame_checks.ts";
import type { GoawayState } from "./_goaway_state.ts";
import type { H2ConnectionOptions } from "./_h2_connection_options.ts";
import { HeadChecks } from "./_head_checks.ts";
import type { HeaderBlock } from "./_header_block.ts";
import type { IdleTimer } from "./_idle_timer.ts";
import type { ParkedWriters } from "./_parked_writers.ts";
import type { SettingsExchange } from "./_settings_exchange.ts";
import type { StreamTable } from "./_stream_table.ts";
import {
  ErrorCode,
  Flag,
  FrameType,
  H2ConnectionError,
  H2StreamError,
  readU31,
  readU32,
} from "./frame.ts";
import type { FrameWriter } from "./frame_writer.ts";
import type { H2Settings } from "./h2_settings.ts";
import { H2Stream, type StreamOwner } from "./h2_stream.ts";
import { Slab } from "./slab.ts";

/** The parts of its connection that {@link InboundFrames} shares. */
export interface InboundParts {
  /** Our side of the connection. */
  role: "server" | "client";
  /** The connection: owner of the streams the peer opens, and where their reads go. */
  owner: StreamOwner;
  /** The connection's options: where to log, and the handlers of new streams. */
  o: Pick<H2ConnectionOptions, "log" | "onStream" | "onMalformed">;
  /** Our settings and limits. */
  local: H2Settings;
  w: FrameWriter;
  streams: StreamTable;
  peer: SettingsExchange;
  flow: FlowControl;
  guard: FloodGuard;
  /** The header block in progress (the connection checks and clears it too). */
  block: HeaderBlock;
  /** Woken when the connection's send window grows. */
  parked: ParkedWriters;
  /** Told of PING acknowledgements. */
  drain: DrainGoaway;
  /** Once we sent a GOAWAY, new streams from the peer are refused. */
  goaway: GoawayState;
  /** Disarmed when the peer opens a stream. */
  idle: IdleTimer;
}

const EMPTY = new Uint8Array(0);

/**
 * What the peer's frames do to one connection (RFC 9113 §6), all but GOAWAY, which may end
 * it: DATA and header blocks to their streams (a HEADERS frame opens a stream on a server),
 * RST_STREAM, PRIORITY and WINDOW_UPDATE, SETTINGS and PING. Each method takes the frame's
 * flags, stream id and payload `b[s, e)`. Malformed input from the peer resets its stream
 * here; what ends the connection is thrown as an {@link H2ConnectionError}.
 */
export class InboundFrames {
  readonly #role: "server" | "client";
  readonly #owner: StreamOwner;
  readonly #o: Pick<H2ConnectionOptions, "log" | "onStream" | "onMalformed">;
  readonly #local: H2Settings;
  readonly #w: FrameWriter;
  readonly #slab = new Slab();
  readonly #streams: StreamTable;
  readonly #heads = new HeadChecks();
  readonly #peer: SettingsExchange;
  readonly #flow: FlowControl;
  readonly #guard: FloodGuard;
  readonly #block: HeaderBlock;
  readonly #parked: ParkedWriters;
  readonly #drain: DrainGoaway;
  readonly #goaway: GoawayState;
  readonly #idle: IdleTimer;

  constructor(p: InboundParts) {
    this.#role = p.role;
    this.#owner = p.owner;
    this.#o = p.o;
    this.#local = p.local;
    this.#w = p.w;
    this.#streams = p.streams;
    this.#peer = p.peer;
    this.#flow = p.flow;
    this.#guard = p.guard;
    this.#block = p.block;
    this.#parked = p.parked;
    this.#drain = p.drain;
    this.#goaway = p.goaway;
    this.#idle = p.idle;
  }

  /** A DATA frame: its payload, counted against the windows, goes to its stream. */
  data(flags: number, id: number, b: Uint8Array, s: number, e: number): void {
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
    if (size > len) this.#owner.consumed(stream, size - len);
    stream.receiveData(chunk, endStream);
  }

  /** A HEADERS frame: a header block, complete or continued in CONTINUATION frames. */
  headers(flags: number, id: number, b: Uint8Array, s: number, e: number): void {
    requireStream(id, "HEADERS");
    const priority = (flags & Flag.PRIORITY) !== 0;
    const content = contentStart(flags, s, priority);
    e = contentEnd(flags, b, s, e, priority);
    const selfDep = priority && readU31(b, content - 5) === id;
    if (flags & Flag.END_HEADERS) return this.#headerBlock(id, flags, selfDep, b, content, e);
    this.#block.start(id, flags, selfDep, b, content, e);
  }

  /** A CONTINUATION frame of the header block in progress. */
  continuation(flags: number, id: number, b: Uint8Array, s: number, e: number): void {
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
    if (this.#role === "client") {
      if (this.#streams.isIdle(id)) {
        throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, `HEADERS on idle stream ${id}`);
      }
      return; // a stream we reset or finished (§5.1: ignored)
    }
    // Server: a new request stream.
    if (!this.#streams.acceptPeerId(id)) return; // closed: trailers in flight after our reset
    if (this.#goaway.sent || this.#streams.size >= this.#local.maxConcurrentStreams) {
      return this.#refuse(id, ErrorCode.REFUSED_STREAM);
    }
    if (selfDep) return this.#refuse(id, ErrorCode.PROTOCOL_ERROR);
    const stream = new H2Stream(id, this.#owner, this.#peer.peerInitialWindow);
    this.#streams.add(stream);
    this.#idle.disarm();
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

  /** A PRIORITY frame: checked, otherwise ignored. */
  priority(id: number, b: Uint8Array, s: number, e: number): void {
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

  /** A RST_STREAM frame: the peer reset a stream. */
  rstStream(id: number, b: Uint8Array, s: number, e: number): void {
    requireStream(id, "RST_STREAM");
    requireLength(s, e, 4, "RST_STREAM");
    const stream = this.#streams.find(id, "RST_STREAM");
    if (!stream) return;
    this.#guard.chargeReset();
    const code = readU32(b, s);
    stream.fail(new H2StreamError(code, `The peer reset the stream (code ${code})`));
  }

  /** A SETTINGS frame: applied and acknowledged (an ACK is only checked). */
  settings(flags: number, id: number, b: Uint8Array, s: number, e: number): void {
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

  /** A PING frame: answered, or (an ACK) handed to the drain. */
  ping(flags: number, id: number, b: Uint8Array, s: number, e: number): void {
    requireConnection(id, "PING");
    requireLength(s, e, 8, "PING");
    if (flags & Flag.ACK) return this.#drain.acked(b, s);
    this.#guard.checkBacklog();
    this.#w.frame(FrameType.PING, Flag.ACK, 0, b, s, e);
  }

  /** A WINDOW_UPDATE frame: more send window for the connection or a stream. */
  windowUpdate(id: number, b: Uint8Array, s: number, e: number): void {
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
}
