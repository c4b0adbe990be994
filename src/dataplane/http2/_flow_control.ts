import { ErrorCode, FrameType, H2ConnectionError, MAX_WINDOW } from "./frame.ts";
import type { FrameWriter } from "./frame_writer.ts";

/** The window a connection and each stream start with, both ways (RFC 9113 §6.9.2). */
export const INITIAL_WINDOW = 65_535;

/** The flow-control counters of one stream (an `H2Stream`), or of the whole connection. */
export interface FlowWindows {
  /** Octets of DATA we may still send. */
  sendWindow: number;
  /** Received octets consumed, not yet returned with WINDOW_UPDATE. */
  recvUnacked: number;
  /** Received octets not yet returned with WINDOW_UPDATE. */
  recvInFlight: number;
}

/**
 * Adds `inc` to a send window (a WINDOW_UPDATE, or a change of the peer's initial window
 * size).
 *
 * @returns false when the window went past 2^31-1 (a flow-control error, RFC 9113 §6.9.1)
 */
export function growSendWindow(win: FlowWindows, inc: number): boolean {
  win.sendWindow += inc;
  return win.sendWindow <= MAX_WINDOW;
}

/**
 * Flow-control accounting of one HTTP/2 connection (RFC 9113 §5.2, §6.9): the connection's
 * own windows, the same arithmetic for each stream's (kept on the stream), and WINDOW_UPDATE
 * batching — received octets go back to the peer once half a window has been consumed, in
 * one frame. Nothing here allocates.
 */
export class FlowControl implements FlowWindows {
  /** Octets of DATA we may still send on the connection. */
  sendWindow = INITIAL_WINDOW;
  /** Received octets consumed, not yet returned with WINDOW_UPDATE. */
  recvUnacked = 0;
  /** Received octets not yet returned with WINDOW_UPDATE. */
  recvInFlight = 0;
  readonly #w: FrameWriter;
  readonly #connectionWindow: number;
  readonly #streamWindow: number;

  /**
   * @param w where WINDOW_UPDATE frames go
   * @param connectionWindow our receive window for the whole connection
   * @param streamWindow our receive window per stream (the SETTINGS_INITIAL_WINDOW_SIZE we
   *   advertise)
   */
  constructor(w: FrameWriter, connectionWindow: number, streamWindow: number) {
    this.#w = w;
    this.#connectionWindow = connectionWindow;
    this.#streamWindow = streamWindow;
  }

  /** Raises the connection's receive window from the protocol's 65,535 octets to ours. */
  announce(): void {
    const extra = this.#connectionWindow - INITIAL_WINDOW;
    if (extra > 0) this.#w.u32Frame(FrameType.WINDOW_UPDATE, 0, 0, extra);
  }

  /**
   * Counts a received DATA payload, padding included, against the connection window.
   *
   * @throws {H2ConnectionError} FLOW_CONTROL_ERROR when the peer overran the window
   */
  receive(size: number): void {
    this.recvInFlight += size;
    if (this.recvInFlight > this.#connectionWindow) {
      throw new H2ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "connection window exceeded");
    }
  }

  /**
   * Counts the same payload against its stream's window.
   *
   * @returns false when the peer overran the stream's window (a stream error)
   */
  receiveOnStream(stream: FlowWindows, size: number): boolean {
    stream.recvInFlight += size;
    return stream.recvInFlight <= this.#streamWindow;
  }

  /** `n` received octets no longer count against the connection window. */
  consumed(n: number): void {
    this.#consume(this, 0, n, this.#connectionWindow);
  }

  /** `n` received octets no longer count against the window of stream `id`. */
  consumedOnStream(stream: FlowWindows, id: number, n: number): void {
    this.#consume(stream, id, n, this.#streamWindow);
  }

  /** Octets of DATA `stream` may send now: at most `want`, within both send windows. */
  sendable(stream: FlowWindows, want: number): number {
    return Math.min(want, stream.sendWindow, this.sendWindow);
  }

  /** Takes `n` octets about to be sent from the stream's and the connection's send windows. */
  spend(stream: FlowWindows, n: number): void {
    stream.sendWindow -= n;
    this.sendWindow -= n;
  }

  #consume(win: FlowWindows, id: number, n: number, window: number): void {
    win.recvUnacked += n;
    if (win.recvUnacked >= window / 2) {
      this.#w.u32Frame(FrameType.WINDOW_UPDATE, 0, id, win.recvUnacked);
      win.recvInFlight -= win.recvUnacked;
      win.recvUnacked = 0;
    }
  }
}
