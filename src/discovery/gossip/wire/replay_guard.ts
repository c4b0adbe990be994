import type { Clock } from "../../../core/mod.ts";

/** Options of a {@linkcode ReplayGuard}. */
export interface ReplayGuardOptions {
  /** The receiver's clock; its `now()` (Unix ms) is compared with each packet's send time. */
  clock: Pick<Clock, "now">;
  /**
   * How far a packet's send time may be from the receiver's clock, either way, in ms
   * (default 30 000). It must exceed the worst clock skew between nodes plus delivery delay.
   */
  windowMs?: number;
  /** Most nonces remembered at once (default 65 536); see the class notes. */
  maxEntries?: number;
}

/** What {@linkcode ReplayGuard.check} decided about a packet. */
export type ReplayVerdict = "fresh" | "stale" | "replayed";

/**
 * Rejects replayed packets: a packet is accepted once, and only while its send time is within
 * `windowMs` of the receiver's clock. Remembers the nonce of every packet accepted in the
 * window, so a copy is caught; a packet older than the window is refused without memory.
 *
 * Limits (also in proto/README.md):
 * - it protects only encrypted packets: without a key anyone can forge a fresh packet, and the
 *   decoder checks nonces only after AES-GCM has authenticated the header;
 * - node clocks must agree within the window (NTP); a node further off can neither send nor
 *   receive;
 * - each node remembers on its own: a packet captured on its way to node A can be replayed to
 *   node B once within the window (gossip is idempotent, so this repeats old news at worst);
 * - a restarted node forgets: packets of the last window before the restart can be replayed
 *   to it once;
 * - when more than `maxEntries` packets arrive within one window, the oldest nonces are
 *   forgotten and every packet sent at or before the newest forgotten one is refused as stale,
 *   so the guard stays safe under a flood at the cost of late packets.
 */
export class ReplayGuard {
  /** How far a send time may be from the clock, either way, in ms. */
  readonly windowMs: number;
  /** Most nonces remembered at once. */
  readonly maxEntries: number;
  #clock: Pick<Clock, "now">;
  /** Nonce (as a 12-char string) → send time, in the order accepted. */
  #seen = new Map<string, number>();
  /** Send time at or below which everything is refused (forgotten under pressure). */
  #floor = -Infinity;

  /**
   * @param options the clock, window and memory bound
   * @throws {RangeError} when an option is not a positive integer
   */
  constructor(options: ReplayGuardOptions) {
    this.#clock = options.clock;
    this.windowMs = options.windowMs ?? 30_000;
    this.maxEntries = options.maxEntries ?? 65_536;
    for (const [name, v] of [["windowMs", this.windowMs], ["maxEntries", this.maxEntries]]) {
      if (!Number.isInteger(v) || (v as number) <= 0) {
        throw new RangeError(`ReplayGuard ${name} must be a positive integer, got ${v}`);
      }
    }
  }

  /**
   * Decides whether a packet is fresh and, when it is, remembers its nonce.
   *
   * @param sentAt the packet's send time (Unix ms, sender's clock)
   * @param nonce the packet's nonce
   * @returns "fresh" (accept), "stale" (outside the window) or "replayed" (seen before)
   */
  check(sentAt: number, nonce: Uint8Array): ReplayVerdict {
    const now = this.#clock.now();
    this.#expire(now);
    if (Math.abs(now - sentAt) > this.windowMs || sentAt <= this.#floor) return "stale";
    const key = String.fromCharCode(...nonce);
    if (this.#seen.has(key)) return "replayed";
    this.#seen.set(key, sentAt);
    while (this.#seen.size > this.maxEntries) {
      const [oldest, at] = this.#seen.entries().next().value!;
      this.#seen.delete(oldest);
      this.#floor = Math.max(this.#floor, at);
    }
    return "fresh";
  }

  /** Nonces remembered now. */
  get size(): number {
    return this.#seen.size;
  }

  /**
   * Forgets nonces accepted long enough ago that their packets are stale anyway, raising the
   * floor past them so they stay refused even if the clock is stepped back. Stops at the first
   * one still in the window: entries are in arrival order, not send order, so a few outlive
   * their window (bounded by `maxEntries`).
   */
  #expire(now: number): void {
    const cutoff = now - this.windowMs;
    for (const [key, at] of this.#seen) {
      if (at >= cutoff) break;
      this.#seen.delete(key);
      this.#floor = Math.max(this.#floor, at);
    }
  }
}
