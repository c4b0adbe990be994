/**
 * The sliding windows a circuit breaker keeps its call outcomes in (resilience4j's
 * "subtract on evict" design): running totals updated as outcomes come in and leave, so that
 * recording an outcome and reading the totals cost O(1) whatever the window's size, and no
 * outcome allocates.
 * @module
 */

/** Outcomes recorded over a window: read `calls`, `failed` and `slow` after `advance(now)`. */
export interface SlidingWindow {
  /** Outcomes in the window. */
  readonly calls: number;
  /** Of those, failed ones. */
  readonly failed: number;
  /** Of those, slow ones (failed or not). */
  readonly slow: number;
  /** Forgets what has slid out of the window by `nowMs` (a no-op for a count window). */
  advance(nowMs: number): void;
  /** Records one outcome at `nowMs`. */
  record(failed: boolean, slow: boolean, nowMs: number): void;
  /** Empties the window, as if it had just been made at `nowMs`. */
  reset(nowMs: number): void;
}

const FAILED = 1;
const SLOW = 2;

/**
 * The last `size` outcomes: a ring of outcome flags with running totals; the outcome that falls
 * out of the ring is subtracted from them.
 */
export class CountWindow implements SlidingWindow {
  calls = 0;
  failed = 0;
  slow = 0;
  readonly #ring: Uint8Array;
  #next = 0;

  /** @param size outcomes the window holds (at least 1) */
  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`Window size ${size} is not a whole number of calls — use 1 or more`);
    }
    this.#ring = new Uint8Array(size);
  }

  advance(_nowMs: number): void {}

  record(failed: boolean, slow: boolean, _nowMs: number): void {
    const ring = this.#ring;
    const i = this.#next;
    if (this.calls === ring.length) {
      const old = ring[i];
      this.failed -= old & FAILED;
      this.slow -= (old & SLOW) >> 1;
    } else {
      this.calls++;
    }
    ring[i] = (failed ? FAILED : 0) | (slow ? SLOW : 0);
    if (failed) this.failed++;
    if (slow) this.slow++;
    this.#next = i + 1 === ring.length ? 0 : i + 1;
  }

  reset(_nowMs: number): void {
    // Slots past `calls` are written before they are ever evicted, so they need no clearing.
    this.calls = this.failed = this.slow = 0;
    this.#next = 0;
  }
}

/**
 * The outcomes of the last `seconds` seconds: a ring of per-second buckets (the current,
 * partial second and the `seconds - 1` before it) with running totals. Moving into a new second
 * subtracts and clears the bucket that falls out; a gap of a whole window or more empties the
 * totals at once. Time moving forward costs O(1) per elapsed second, not per outcome.
 */
export class TimeWindow implements SlidingWindow {
  calls = 0;
  failed = 0;
  slow = 0;
  readonly #calls: Float64Array;
  readonly #failed: Float64Array;
  readonly #slow: Float64Array;
  /** The second each bucket was last (re)started for. */
  readonly #second: Float64Array;
  /** The current second: the head bucket's. */
  #head: number;
  /** Buckets started before this second are not in the totals (emptied by a reset). */
  #validFrom: number;

  /**
   * @param seconds seconds the window spans (at least 1)
   * @param nowMs the current monotonic time in milliseconds
   */
  constructor(seconds: number, nowMs: number) {
    if (!Number.isInteger(seconds) || seconds < 1) {
      throw new RangeError(
        `Window of ${seconds} s is not a whole number of seconds — use 1 or more`,
      );
    }
    this.#calls = new Float64Array(seconds);
    this.#failed = new Float64Array(seconds);
    this.#slow = new Float64Array(seconds);
    this.#second = new Float64Array(seconds).fill(-Infinity);
    this.#head = this.#validFrom = Math.floor(nowMs / 1000);
    this.#start(this.#head);
  }

  advance(nowMs: number): void {
    const now = Math.floor(nowMs / 1000);
    if (now <= this.#head) return; // the same second (or a clock that did not move forward)
    const size = this.#second.length;
    if (now - this.#head >= size) {
      this.#empty(now);
      return;
    }
    for (let s = this.#head + 1; s <= now; s++) {
      const i = this.#index(s);
      if (this.#second[i] === s - size && this.#second[i] >= this.#validFrom) {
        this.calls -= this.#calls[i];
        this.failed -= this.#failed[i];
        this.slow -= this.#slow[i];
      }
      this.#start(s);
    }
    this.#head = now;
  }

  record(failed: boolean, slow: boolean, nowMs: number): void {
    this.advance(nowMs);
    const i = this.#index(this.#head);
    this.#calls[i]++;
    this.calls++;
    if (failed) {
      this.#failed[i]++;
      this.failed++;
    }
    if (slow) {
      this.#slow[i]++;
      this.slow++;
    }
  }

  reset(nowMs: number): void {
    this.#empty(Math.max(this.#head, Math.floor(nowMs / 1000)));
  }

  /** Zeroes the totals and makes `second` the head; older buckets are left to expire unread. */
  #empty(second: number): void {
    this.calls = this.failed = this.slow = 0;
    this.#head = this.#validFrom = second;
    this.#start(second);
  }

  /** The bucket of `second` (a clock may start below zero). */
  #index(second: number): number {
    const size = this.#second.length;
    const i = second % size;
    return i < 0 ? i + size : i;
  }

  #start(second: number): void {
    const i = this.#index(second);
    this.#calls[i] = this.#failed[i] = this.#slow[i] = 0;
    this.#second[i] = second;
  }
}
