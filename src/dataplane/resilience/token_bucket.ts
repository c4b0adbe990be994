import type { RateLimitConfig } from "../../config/mod.ts";

/**
 * A token bucket with Envoy's local rate limit semantics: it starts full with `max_tokens`,
 * and every `fill_interval` since construction adds `tokens_per_fill`, capped at
 * `max_tokens`. Fills are computed lazily on each call from the injected time source (no
 * timers), on the grid of fill times fixed at construction, as Envoy's fill timer ticks. O(1)
 * and allocation-free per call.
 *
 * @example
 * ```ts
 * const bucket = new TokenBucket(route.rate_limit, () => clock.monotonic());
 * const wait = bucket.take();
 * if (wait > 0) reply429(Math.max(1, Math.ceil(wait / 1000))); // retry-after, seconds
 * ```
 */
export class TokenBucket {
  readonly #max: number;
  readonly #perFill: number;
  readonly #interval: number;
  readonly #now: () => number;
  #tokens: number;
  /** Time of the latest fill on the grid (construction time + n × interval). */
  #lastFill: number;

  /**
   * @param config bucket size, tokens per fill and fill interval (milliseconds)
   * @param now monotonic time source in milliseconds, e.g. `() => clock.monotonic()`
   * @throws {RangeError} when a parameter is not a positive number
   */
  constructor(config: RateLimitConfig, now: () => number) {
    const { max_tokens, tokens_per_fill, fill_interval } = config;
    if (!(max_tokens >= 1 && tokens_per_fill >= 1 && fill_interval > 0)) {
      throw new RangeError(
        `Invalid rate limit ${JSON.stringify(config)}: max_tokens and tokens_per_fill ` +
          "must be at least 1 and fill_interval above 0",
      );
    }
    this.#max = max_tokens;
    this.#perFill = tokens_per_fill;
    this.#interval = fill_interval;
    this.#now = now;
    this.#tokens = max_tokens;
    this.#lastFill = now();
  }

  /**
   * Takes one token if there is one.
   *
   * @returns 0 when a token was taken; otherwise the milliseconds until the next fill (above
   * 0 and at most `fill_interval`), for a `retry-after` rounded up to whole seconds
   */
  take(): number {
    const now = this.#now();
    const elapsed = now - this.#lastFill;
    if (elapsed >= this.#interval) {
      const fills = Math.floor(elapsed / this.#interval);
      this.#tokens = Math.min(this.#max, this.#tokens + fills * this.#perFill);
      this.#lastFill += fills * this.#interval;
    } else if (elapsed < 0) {
      this.#lastFill = now; // time went backwards: restart the grid rather than wait longer
    }
    if (this.#tokens > 0) {
      this.#tokens--;
      return 0;
    }
    return this.#lastFill + this.#interval - now;
  }
}
