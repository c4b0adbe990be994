import type { Clock, Timer } from "../core/mod.ts";

/** Timers cannot wait longer than this (2^31 - 1 ms); longer waits are made in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Runs `fn` once the clock reaches `at` (Unix milliseconds), at once if it already has.
 * Waits longer than a timer allows (about 24.8 days) are chained.
 *
 * @returns a timer whose `cancel()` stops it
 */
export function alarmAt(clock: Clock, at: number, fn: () => void): Timer {
  let timer: Timer | undefined;
  let cancelled = false;
  const arm = () => {
    if (cancelled) return;
    const wait = at - clock.now();
    if (wait <= 0) return fn();
    timer = clock.setTimer(arm, Math.min(wait, MAX_TIMER_MS));
  };
  arm();
  return {
    cancel() {
      cancelled = true;
      timer?.cancel();
    },
  };
}
