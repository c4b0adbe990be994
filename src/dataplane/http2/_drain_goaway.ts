import type { Timer } from "../../core/clock.ts";
import type { TimerWheel } from "../../core/timer_wheel.ts";
import { ErrorCode, FrameType } from "./frame.ts";
import type { FrameWriter } from "./frame_writer.ts";

/** The largest stream id (2^31 - 1): what the first GOAWAY of a drain announces. */
const MAX_STREAM_ID = 0x7fff_ffff;

/** How long a drain waits for the acknowledgement of its PING before the final GOAWAY. */
const ACK_TIMEOUT_MS = 1_000;

/** The opaque data of a drain's PING, to tell its acknowledgement from others. */
const PING_DATA = new TextEncoder().encode("skfdrain");

/**
 * The first step of a graceful server shutdown (RFC 9113 §6.8), as Envoy and nghttp2 take
 * it: GOAWAY with the largest stream id and NO_ERROR tells the client to open no more
 * streams without refusing the ones already on their way, and a PING measures one round
 * trip. When its acknowledgement arrives — every stream the client opened before it saw
 * the GOAWAY has arrived by then — or after `ACK_TIMEOUT_MS`, the final step runs: the
 * connection's own GOAWAY with the real last stream id.
 */
export class DrainGoaway {
  #final: (() => void) | null = null;
  #timer: Timer | null = null;

  /**
   * Queues the first GOAWAY and the PING on `w`; `final` runs once, on the PING's
   * acknowledgement or on `wheel` after `ACK_TIMEOUT_MS`. A no-op while one is pending.
   */
  start(w: FrameWriter, wheel: TimerWheel, final: () => void): void {
    if (this.#final !== null) return;
    this.#final = final;
    w.goaway(MAX_STREAM_ID, ErrorCode.NO_ERROR, "");
    w.frame(FrameType.PING, 0, 0, PING_DATA);
    this.#timer = wheel.schedule(ACK_TIMEOUT_MS, () => this.#finish());
  }

  /** A PING acknowledgement with the 8 octets at `b[s]` arrived: ours runs the final step. */
  acked(b: Uint8Array, s: number): void {
    if (this.#final === null) return;
    for (let i = 0; i < PING_DATA.length; i++) if (b[s + i] !== PING_DATA[i]) return;
    this.#finish();
  }

  /** Forgets the final step (the connection went away, or shut down by itself). */
  cancel(): void {
    this.#timer?.cancel();
    this.#timer = null;
    this.#final = null;
  }

  #finish(): void {
    const final = this.#final;
    this.cancel();
    final?.();
  }
}
