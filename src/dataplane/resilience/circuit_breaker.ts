import { type CircuitBreakerConfig, formatDuration } from "../../config/mod.ts";
import { CountWindow, type SlidingWindow, TimeWindow } from "./_sliding_window.ts";

/** The states of a {@linkcode CircuitBreaker}. */
export type BreakerState = "closed" | "open" | "half_open";

/** What a {@linkcode CircuitBreaker} is given besides its configuration. */
export interface CircuitBreakerDeps {
  /** Monotonic time in milliseconds. */
  now: () => number;
  /** Told of every state change, after it happened, with a short sentence saying why. */
  onTransition?: (from: BreakerState, to: BreakerState, why: string) => void;
}

/** A {@linkcode CircuitBreaker}'s state and the window its rates are taken over. */
export interface CircuitBreakerSnapshot {
  state: BreakerState;
  /** Failed calls in the window, in percent; -1 while it holds fewer than the minimum. */
  failure_rate: number;
  /** Slow calls in the window, in percent; -1 while it holds fewer than the minimum. */
  slow_call_rate: number;
  /** Outcomes in the window. */
  calls: number;
  /** Of those, failed ones. */
  failed: number;
  /** Of those, slow ones (failed or not). */
  slow: number;
  /** Calls refused since the circuit last went closed or half-open. */
  not_permitted: number;
}

const FAILURE = 1;
const SLOW = 2;
const BELOW_MINIMUM = -1;

/**
 * Whether `count` of `calls` is at least `percent` %. Compared without dividing, with a
 * tolerance far below one call, so that 1.1 % of 3000 calls is reached by 33 of them although
 * binary floating point makes 1.1 × 3000 a little more than 3300.
 */
function reached(count: number, calls: number, percent: number): boolean {
  return count * 100 >= (percent - 1e-9) * calls;
}

function rate(count: number, calls: number): number {
  return (count * 100) / calls;
}

/**
 * A circuit breaker with resilience4j's semantics. Closed, it records call outcomes in a
 * sliding window (the last `sliding_window_size` calls, or the calls of the last
 * `sliding_window_size` seconds) and opens once the window holds `minimum_number_of_calls`
 * (for a count window, at most its size) and the failure rate or the slow-call rate is at or
 * above its threshold. Open, it refuses every call until `wait_duration_in_open_state` has
 * passed, then goes half-open and lets exactly `permitted_number_of_calls_in_half_open_state`
 * trial calls through; once all their outcomes are in, their rates close the circuit (with an
 * empty window) or open it again. A half-open circuit that has waited
 * `max_wait_duration_in_half_open_state` (when not 0) for its trial outcomes opens again.
 *
 * Time moves the state only when the breaker is used: every method first applies the waits
 * that are over. Recording an outcome or asking for a permit allocates nothing and costs O(1).
 *
 * @example
 * ```ts
 * const breaker = new CircuitBreaker(config, { now: () => clock.now() });
 * if (!breaker.tryAcquire()) return circuitOpen();
 * const started = clock.now();
 * const res = await forward(req);
 * breaker.onResult(res.status < 500, clock.now() - started);
 * ```
 */
export class CircuitBreaker {
  readonly #now: () => number;
  readonly #onTransition?: (from: BreakerState, to: BreakerState, why: string) => void;
  readonly #failureThreshold: number;
  readonly #slowThreshold: number;
  readonly #slowDurationMs: number;
  readonly #waitMs: number;
  readonly #maxHalfOpenMs: number;
  readonly #trialCalls: number;
  readonly #closedMinimum: number;
  readonly #closedWindow: SlidingWindow;
  readonly #trialWindow: CountWindow;

  #state: BreakerState = "closed";
  /** When the current state began (ms): the open wait and the half-open limit run from it. */
  #since: number;
  /** The window the rates are read from: the closed one, or the trial calls'. */
  #window: SlidingWindow;
  /** Outcomes `#window` must hold before its rates count. */
  #minimum: number;
  /** Trial calls that may still start (half-open). */
  #permits = 0;
  #notPermitted = 0;

  /**
   * @param config the breaker's configuration (durations in milliseconds)
   * @param deps the clock, and who to tell about state changes
   * @throws {RangeError} when the window size is not a whole number of at least 1
   */
  constructor(config: CircuitBreakerConfig, deps: CircuitBreakerDeps) {
    this.#now = deps.now;
    this.#onTransition = deps.onTransition;
    this.#failureThreshold = config.failure_rate_threshold;
    this.#slowThreshold = config.slow_call_rate_threshold;
    this.#slowDurationMs = config.slow_call_duration_threshold;
    this.#waitMs = config.wait_duration_in_open_state;
    this.#maxHalfOpenMs = config.max_wait_duration_in_half_open_state;
    this.#trialCalls = config.permitted_number_of_calls_in_half_open_state;
    const now = this.#now();
    this.#since = now;
    if (config.sliding_window_type === "time_based") {
      this.#closedWindow = new TimeWindow(config.sliding_window_size, now);
      this.#closedMinimum = config.minimum_number_of_calls;
    } else {
      this.#closedWindow = new CountWindow(config.sliding_window_size);
      // As resilience4j: a count window never holds more than its size.
      this.#closedMinimum = Math.min(config.minimum_number_of_calls, config.sliding_window_size);
    }
    this.#trialWindow = new CountWindow(this.#trialCalls);
    this.#window = this.#closedWindow;
    this.#minimum = this.#closedMinimum;
  }

  /** The current state; reading it may move open → half-open when the wait is over. */
  get state(): BreakerState {
    this.#tick(this.#now());
    return this.#state;
  }

  /**
   * Asks whether a call may go ahead. Closed: always. Open: never. Half-open: while trial
   * slots are left, taking one. Every `true` must be followed by exactly one
   * {@linkcode onResult} or {@linkcode release}.
   *
   * @returns `false` when the call is to be refused (`circuit_open`)
   */
  tryAcquire(): boolean {
    this.#tick(this.#now());
    if (this.#state === "closed") return true;
    if (this.#state === "half_open" && this.#permits > 0) {
      this.#permits--;
      return true;
    }
    this.#notPermitted++;
    return false;
  }

  /**
   * Records the outcome of an acquired call; may open or close the circuit.
   *
   * @param success whether the call succeeded
   * @param durationMs how long it took; at least `slow_call_duration_threshold` makes it slow
   */
  onResult(success: boolean, durationMs: number): void {
    const now = this.#now();
    this.#tick(now);
    const failed = !success;
    const slow = durationMs >= this.#slowDurationMs;
    if (this.#state === "closed") {
      const w = this.#closedWindow;
      w.record(failed, slow, now);
      const over = this.#overThresholds(w);
      if (over > 0) this.#toOpen(now, this.#closedReason(over, w));
    } else if (this.#state === "half_open") {
      const w = this.#trialWindow;
      w.record(failed, slow, now);
      if (w.calls < this.#trialCalls) return;
      const over = this.#overThresholds(w);
      if (over > 0) this.#toOpen(now, this.#trialReason(over, w));
      else this.#toClosed(now, this.#trialPassed(w));
    } else {
      // A call acquired before the circuit opened: it counts in the rates shown, decides nothing.
      this.#window.record(failed, slow, now);
    }
  }

  /**
   * Gives back an acquired call that ended without an outcome to record (the client went
   * away, say): in half-open its trial slot becomes free again.
   */
  release(): void {
    this.#tick(this.#now());
    if (this.#state === "half_open" && this.#permits < this.#trialCalls) this.#permits++;
  }

  /**
   * The state and the window's counts and rates: the closed window when closed, the trial
   * calls' when half-open, and when open the window that opened the circuit.
   */
  snapshot(): CircuitBreakerSnapshot {
    const now = this.#now();
    this.#tick(now);
    const w = this.#window;
    w.advance(now);
    const counted = w.calls > 0 && w.calls >= this.#minimum;
    return {
      state: this.#state,
      failure_rate: counted ? rate(w.failed, w.calls) : BELOW_MINIMUM,
      slow_call_rate: counted ? rate(w.slow, w.calls) : BELOW_MINIMUM,
      calls: w.calls,
      failed: w.failed,
      slow: w.slow,
      not_permitted: this.#notPermitted,
    };
  }

  /** Applies the waits that are over by `now`. */
  #tick(now: number): void {
    if (
      this.#state === "half_open" && this.#maxHalfOpenMs > 0 &&
      now - this.#since >= this.#maxHalfOpenMs
    ) {
      // Opened when the limit ran out, not when noticed, as a timer would have done.
      this.#toOpen(
        this.#since + this.#maxHalfOpenMs,
        `half-open for ${formatDuration(this.#maxHalfOpenMs)} with ${this.#trialWindow.calls} ` +
          `of ${this.#trialCalls} trial outcomes in`,
      );
    }
    if (this.#state === "open" && now - this.#since >= this.#waitMs) {
      this.#toHalfOpen(now, `wait of ${formatDuration(this.#waitMs)} in open state over`);
    }
  }

  /** FAILURE | SLOW for the rates at or above their thresholds; 0 below them or the minimum. */
  #overThresholds(w: SlidingWindow): number {
    if (w.calls === 0 || w.calls < this.#minimum) return 0;
    return (reached(w.failed, w.calls, this.#failureThreshold) ? FAILURE : 0) |
      (reached(w.slow, w.calls, this.#slowThreshold) ? SLOW : 0);
  }

  #closedReason(over: number, w: SlidingWindow): string {
    const parts: string[] = [];
    if (over & FAILURE) {
      parts.push(
        `failure rate ${rate(w.failed, w.calls).toFixed(1)} % ≥ ${this.#failureThreshold} %`,
      );
    }
    if (over & SLOW) {
      parts.push(`slow-call rate ${rate(w.slow, w.calls).toFixed(1)} % ≥ ${this.#slowThreshold} %`);
    }
    return `${parts.join(" and ")} over ${w.calls} calls`;
  }

  #trialReason(over: number, w: SlidingWindow): string {
    const of = `${w.calls === 1 ? "" : ` of ${w.calls}`} trial call${w.calls === 1 ? "" : "s"}`;
    if (over === FAILURE) return `${w.failed}${of} failed`;
    if (over === SLOW) return `${w.slow}${of} ${w.slow === 1 ? "was" : "were"} slow`;
    return `${w.failed}${of} failed and ${w.slow} ${w.slow === 1 ? "was" : "were"} slow`;
  }

  #trialPassed(w: SlidingWindow): string {
    return `${w.failed} of ${w.calls} trial calls failed and ${w.slow} ` +
      `${w.slow === 1 ? "was" : "were"} slow, below ${this.#failureThreshold} % and ` +
      `${this.#slowThreshold} %`;
  }

  #toOpen(at: number, why: string): void {
    // The window that opened the circuit stays, so that the snapshot shows why.
    this.#move("open", at, why);
  }

  #toHalfOpen(at: number, why: string): void {
    this.#trialWindow.reset(at);
    this.#window = this.#trialWindow;
    this.#minimum = this.#trialCalls;
    this.#permits = this.#trialCalls;
    this.#notPermitted = 0;
    this.#move("half_open", at, why);
  }

  #toClosed(at: number, why: string): void {
    this.#closedWindow.reset(at);
    this.#window = this.#closedWindow;
    this.#minimum = this.#closedMinimum;
    this.#permits = 0;
    this.#notPermitted = 0;
    this.#move("closed", at, why);
  }

  #move(to: BreakerState, at: number, why: string): void {
    const from = this.#state;
    this.#state = to;
    this.#since = at;
    this.#onTransition?.(from, to, why);
  }
}
