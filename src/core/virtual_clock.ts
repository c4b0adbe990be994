import { type Clock, sleepOn, type Timer } from "./clock.ts";

interface Entry {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A clock whose time moves only when `advance()` is called; timers fire in deadline order.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock();
 * clock.setTimer(() => console.log("fired"), 100);
 * clock.advance(100); // prints "fired"
 * ```
 */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  #queue: Entry[] = [];

  /** Starts at `startMs` (Unix milliseconds). */
  constructor(startMs = 1_700_000_000_000) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  monotonic(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): Timer {
    const entry: Entry = {
      at: this.#now + Math.max(0, ms),
      seq: this.#seq++,
      fn,
      cancelled: false,
    };
    this.#queue.push(entry);
    return { cancel: () => void (entry.cancelled = true) };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /** Number of timers that are scheduled and not cancelled. */
  get pending(): number {
    return this.#queue.filter((e) => !e.cancelled).length;
  }

  /** Moves time forward by `ms`, firing every timer due on the way, in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const next = this.#nextDue(end);
      if (!next) break;
      this.#now = next.at;
      next.fn();
    }
    this.#now = end;
  }

  #nextDue(end: number): Entry | undefined {
    let best = -1;
    for (let i = 0; i < this.#queue.length; i++) {
      const e = this.#queue[i];
      if (e.cancelled || e.at > end) continue;
      if (
        best < 0 || e.at < this.#queue[best].at ||
        (e.at === this.#queue[best].at && e.seq < this.#queue[best].seq)
      ) best = i;
    }
    if (best < 0) {
      this.#queue = this.#queue.filter((e) => !e.cancelled);
      return undefined;
    }
    return this.#queue.splice(best, 1)[0];
  }
}
