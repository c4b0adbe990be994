import { ErrorCode, H2ConnectionError } from "./frame.ts";
import type { FrameWriter } from "./frame_writer.ts";

/** Control frames we may owe a peer that does not read them before it must go. */
const MAX_QUEUED_CONTROL = 10_000;

/** What a `FloodGuard` needs. */
export interface FloodGuardOptions {
  /** Limit stream resets (the server role); a client only watches its backlog. */
  limitResets: boolean;
  /** Resets allowed in one burst. */
  maxResetBurst: number;
  /** How fast that allowance refills, in resets per second. */
  resetRefillPerSecond: number;
  /** Monotonic milliseconds; read only when a reset is charged. */
  now: () => number;
}

/**
 * Ends a connection whose peer abuses the cheap parts of HTTP/2 with GOAWAY
 * ENHANCE_YOUR_CALM: resetting streams, or making us reset them, faster than a token bucket
 * refills ("rapid reset", CVE-2023-44487); or making us queue answers it does not read
 * (PING and SETTINGS acknowledgements, RST_STREAM).
 */
export class FloodGuard {
  readonly #w: FrameWriter;
  readonly #o: FloodGuardOptions;
  #tokens: number;
  #stamp = -1;

  /** @param w the connection's writer, whose control-frame backlog is watched */
  constructor(w: FrameWriter, options: FloodGuardOptions) {
    this.#w = w;
    this.#o = options;
    this.#tokens = options.maxResetBurst;
  }

  /**
   * Takes one token from the reset allowance for a stream the peer reset or made us reset.
   *
   * @throws {H2ConnectionError} ENHANCE_YOUR_CALM when the allowance is used up
   */
  chargeReset(): void {
    const o = this.#o;
    if (!o.limitResets) return;
    const now = o.now();
    if (this.#stamp >= 0 && now > this.#stamp) {
      const refill = (now - this.#stamp) * o.resetRefillPerSecond / 1000;
      this.#tokens = Math.min(o.maxResetBurst, this.#tokens + refill);
    }
    this.#stamp = now;
    if (--this.#tokens < 0) {
      throw new H2ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, "too many stream resets");
    }
  }

  /**
   * Checks, before queuing another answer, that the peer reads the ones it asked for.
   *
   * @throws {H2ConnectionError} ENHANCE_YOUR_CALM when too many control frames wait
   */
  checkBacklog(): void {
    if (this.#w.controlBacklog >= MAX_QUEUED_CONTROL) {
      throw new H2ConnectionError(
        ErrorCode.ENHANCE_YOUR_CALM,
        "the peer does not read the frames it asks for",
      );
    }
  }
}
