import type { Clock, Timer } from "./clock.ts";

/** One scheduled callback in a `TimerWheel`. */
class WheelEntry implements Timer {
  slot = -1;
  index = -1;
  constructor(
    readonly wheel: TimerWheel,
    public at: number,
    public fn: () => void,
  ) {}
  cancel(): void {
    this.wheel.remove(this);
  }
}

/**
 * A hashed timing wheel: many coarse deadlines (connection idle, header and request
 * timeouts) for the price of one runtime timer. Scheduling and cancelling are O(1) with no
 * runtime timer per entry; deadlines fire up to one tick late, never early.
 *
 * @example
 * ```ts
 * const wheel = new TimerWheel(systemClock, 10);
 * const t = wheel.schedule(5_000, () => conn.close());
 * t.cancel();
 * ```
 */
export class TimerWheel {
  readonly #clock: Clock;
  readonly #tick: number;
  readonly #slots: WheelEntry[][];
  #size = 0;
  #cursor: number; // absolute tick number processed last
  #timer: Timer | undefined;

  /**
   * @param clock the time source
   * @param tickMs resolution in milliseconds (deadlines fire up to this late)
   * @param slots number of slots; deadlines further than `slots × tickMs` wait extra turns
   */
  constructor(clock: Clock, tickMs = 10, slots = 512) {
    this.#clock = clock;
    this.#tick = tickMs;
    this.#slots = Array.from({ length: slots }, () => []);
    this.#cursor = Math.floor(clock.monotonic() / tickMs);
  }

  /** Number of scheduled entries. */
  get size(): number {
    return this.#size;
  }

  /** Runs `fn` once, `ms` milliseconds from now (rounded up to the next tick). */
  schedule(ms: number, fn: () => void): Timer {
    const entry = new WheelEntry(this, this.#clock.monotonic() + ms, fn);
    this.#insert(entry);
    return entry;
  }

  /** Moves an entry to a new deadline `ms` from now, reusing it (cheaper than cancel+schedule). */
  reschedule(timer: Timer, ms: number): void {
    const entry = timer as WheelEntry;
    this.remove(entry);
    entry.at = this.#clock.monotonic() + ms;
    this.#insert(entry);
  }

  /** @internal Unlinks an entry; a no-op when it already fired or was cancelled. */
  remove(entry: WheelEntry): void {
    if (entry.slot < 0) return;
    const list = this.#slots[entry.slot];
    const last = list.pop()!;
    if (last !== entry) {
      list[entry.index] = last;
      last.index = entry.index;
    }
    entry.slot = -1;
    this.#size--;
    if (this.#size === 0) this.#stop();
  }

  /** Cancels every entry and stops the runtime timer. */
  clear(): void {
    for (const list of this.#slots) {
      for (const e of list) e.slot = -1;
      list.length = 0;
    }
    this.#size = 0;
    this.#stop();
  }

  #insert(entry: WheelEntry): void {
    const tickNo = Math.max(Math.ceil(entry.at / this.#tick), this.#cursor + 1);
    entry.slot = tickNo % this.#slots.length;
    const list = this.#slots[entry.slot];
    entry.index = list.length;
    list.push(entry);
    this.#size++;
    if (!this.#timer) {
      this.#cursor = Math.max(this.#cursor, Math.floor(this.#clock.monotonic() / this.#tick));
      this.#arm();
    }
  }

  #arm(): void {
    this.#timer = this.#clock.setTimer(() => this.#run(), this.#tick);
  }

  #stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #run(): void {
    this.#timer = undefined;
    const now = this.#clock.monotonic();
    const target = Math.floor(now / this.#tick);
    const n = this.#slots.length;
    // Visit every slot passed since the last run, at most one full turn.
    const from = Math.max(this.#cursor + 1, target - n + 1);
    for (let t = from; t <= target; t++) {
      const list = this.#slots[t % n];
      const due = list.filter((e) => e.at <= now);
      for (const e of due) this.remove(e);
      // Fire after unlinking so callbacks may schedule or cancel freely.
      for (const e of due) e.fn();
    }
    this.#cursor = target;
    if (this.#size > 0 && !this.#timer) this.#arm();
  }
}
