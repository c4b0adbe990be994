/** A handle to a scheduled callback; `cancel()` is idempotent. */
export interface Timer {
  cancel(): void;
}

/**
 * The source of time for all of skiff. Code under `src/` takes a `Clock` instead of calling
 * `Date.now()`, `performance.now()` or `setTimeout` so that tests can drive virtual time.
 */
export interface Clock {
  /** Wall-clock time in Unix milliseconds (for logs and timestamps). */
  now(): number;
  /** Monotonic milliseconds with sub-millisecond precision (for durations). */
  monotonic(): number;
  /** Runs `fn` once after `ms` milliseconds unless cancelled first. */
  setTimer(fn: () => void, ms: number): Timer;
  /** Resolves after `ms` milliseconds, or rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

class SystemTimer implements Timer {
  #id: ReturnType<typeof setTimeout> | undefined;
  constructor(fn: () => void, ms: number) {
    this.#id = setTimeout(fn, ms);
  }
  cancel(): void {
    if (this.#id !== undefined) clearTimeout(this.#id);
    this.#id = undefined;
  }
}

/** The real clock, backed by the runtime's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimer: (fn, ms) => new SystemTimer(fn, ms),
  sleep: (ms, signal) => sleepOn(systemClock, ms, signal),
};

/** Implements `Clock.sleep` on top of `Clock.setTimer`. */
export function sleepOn(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      timer.cancel();
      reject(signal!.reason);
    };
    const timer = clock.setTimer(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
