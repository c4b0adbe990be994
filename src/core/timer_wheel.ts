import type { Clock, Timer } from "./clock.ts";

/** `WheelEntry.slot` of an entry taken off the wheel as due, until its callback runs. */
const DUE = -2;

/** Stands in for the runtime timer while `#run` fires callbacks (the wheel is not idle). */
const RUNNING: Timer = { cancel() {} };

/** One scheduled callback in a `TimerWheel`. */
class WheelEntry implements Timer {
  slot = -1;
  index = -1;
  constructor(
    readonly wheel: TimerWheel,
    public at: number,
    public fn: (arg: unknown) => void,
    public arg: unknown,
  ) {}
  cancel(): void {
    this.wheel.remove(this);
  }
}

/**
 * A hashed timing wheel: many coarse deadlines (connection idle, header and request
 * timeouts) for the price of one runtime timer. Scheduling and cancelling are O(1) with no
 * runtime timer and no clock read per entry: deadlines count from the wheel's cached
 * `now()`, so they fire up to one tick late — or early by however long the event loop was
 * blocked without anyone calling `touch()`, which is the trade nginx makes with its cached
 * time too.
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
  #timer: Timer | undefined; // the runtime timer, RUNNING during #run, undefined when idle
  #now: number; // latest known monotonic time (see now())
  #due: WheelEntry[] = []; // entries of the slot being fired

  /**
   * @param clock the time source
   * @param tickMs resolution in milliseconds (deadlines fire up to this late)
   * @param slots number of slots; deadlines further than `slots × tickMs` wait extra turns
   */
  constructor(clock: Clock, tickMs = 10, slots = 512) {
    this.#clock = clock;
    this.#tick = tickMs;
    this.#slots = Array.from({ length: slots }, () => []);
    this.#now = clock.monotonic();
    this.#cursor = Math.floor(this.#now / tickMs);
  }

  /**
   * The latest monotonic time the wheel knows of: refreshed at every tick and by `touch()`.
   * Costs nothing (no clock read); at most one tick stale while timers are pending and
   * callers touch it on every request.
   */
  now(): number {
    return this.#now;
  }

  /** Tells the wheel a fresh monotonic time (callers that just read the clock pass it on). */
  touch(now: number): void {
    if (now > this.#now) this.#now = now;
  }

  /** Number of scheduled entries. */
  get size(): number {
    return this.#size;
  }

  /**
   * Runs `fn` once, `ms` milliseconds after `now()` (rounded up to the next tick). When
   * the wheel is idle it reads the clock first, so `now()` is never more than about one tick
   * stale at scheduling time.
   */
  schedule(ms: number, fn: () => void): Timer {
    return this.scheduleCall(ms, fn, undefined);
  }

  /**
   * Like `schedule`, running `fn(arg)`: a function made once can serve every timer, with no
   * closure allocated per timer on hot paths.
   */
  scheduleCall<T>(ms: number, fn: (arg: T) => void, arg: T): Timer {
    if (!this.#timer) this.#now = this.#clock.monotonic();
    const entry = new WheelEntry(this, this.#now + ms, fn as (arg: unknown) => void, arg);
    this.#insert(entry);
    return entry;
  }

  /** Moves an entry to a new deadline `ms` from now, reusing it (cheaper than cancel+schedule). */
  reschedule(timer: Timer, ms: number): void {
    const entry = timer as WheelEntry;
    this.remove(entry);
    if (!this.#timer) this.#now = this.#clock.monotonic();
    entry.at = this.#now + ms;
    this.#insert(entry);
  }

  /**
   * @internal Unlinks an entry, or stops one that is due in the tick being fired; a no-op
   * when it already fired or was cancelled.
   */
  remove(entry: WheelEntry): void {
    if (entry.slot < 0) {
      entry.slot = -1; // due in the slot being fired: it no longer runs
      return;
    }
    const list = this.#slots[entry.slot];
    const last = list.pop()!;
    if (last !== entry) {
      list[entry.index] = last;
      last.index = entry.index;
    }
    entry.slot = -1;
    this.#size--;
    // The runtime timer is not stopped here: it stops itself at its next tick if the wheel
    // is still empty. Stopping and re-arming on every add/remove would cost a runtime timer
    // per request.
  }

  /** Cancels every entry and stops the runtime timer. */
  clear(): void {
    for (const list of this.#slots) {
      for (const e of list) e.slot = -1;
      list.length = 0;
    }
    for (const e of this.#due) e.slot = -1;
    this.#size = 0;
    this.#stop();
  }

  #insert(entry: WheelEntry): void {
    // An idle wheel's cursor lags behind; catch it up first so that the entry does not land
    // in a slot the next run treats as already visited.
    if (!this.#timer) this.#cursor = Math.max(this.#cursor, Math.floor(this.#now / this.#tick));
    const tickNo = Math.max(Math.ceil(entry.at / this.#tick), this.#cursor + 1);
    entry.slot = tickNo % this.#slots.length;
    const list = this.#slots[entry.slot];
    entry.index = list.length;
    list.push(entry);
    this.#size++;
    if (!this.#timer) this.#arm();
  }

  #arm(): void {
    // Wake on the next tick boundary: a run at the boundary of an entry's tick fires it, so
    // it is at most one tick late. (A fixed `tick` delay from an unaligned time would run
    // up to a tick after that boundary.)
    const next = (Math.floor(this.#now / this.#tick) + 1) * this.#tick;
    this.#timer = this.#clock.setTimer(() => this.#run(), Math.ceil(next - this.#now));
  }

  #stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #run(): void {
    this.#timer = RUNNING;
    try {
      this.#fire();
    } finally {
      // When a callback threw, the entries due with it that did not run yet fire next run.
      for (const e of this.#due) {
        if (e.slot !== DUE) continue;
        e.slot = -1;
        this.#insert(e);
      }
      this.#due = [];
      if (this.#timer === RUNNING) this.#timer = undefined; // else clear() and a schedule re-armed it
      if (this.#size > 0 && !this.#timer) this.#arm();
    }
  }

  /** Fires the entries due in every tick passed since the last run. */
  #fire(): void {
    const now = this.#clock.monotonic();
    this.touch(now);
    const target = Math.floor(now / this.#tick);
    const n = this.#slots.length;
    // Visit every slot passed since the last run, at most one full turn.
    const from = Math.max(this.#cursor + 1, target - n + 1);
    for (let t = from; t <= target; t++) {
      // Entries that callbacks schedule from here on land in later ticks.
      this.#cursor = t;
      const due = this.#slots[t % n].filter((e) => e.at <= now);
      for (const e of due) {
        this.remove(e);
        e.slot = DUE;
      }
      // Fire after unlinking so callbacks may schedule freely; one that cancels,
      // reschedules or clears an entry still due here stops it from firing.
      this.#due = due;
      for (const e of due) {
        if (e.slot !== DUE) continue;
        e.slot = -1;
        e.fn(e.arg);
      }
    }
    this.#cursor = Math.max(this.#cursor, target);
  }
}
