/**
 * Sleeping until a shared-memory condition holds, without spinning: the waiter announces
 * itself in a flag word, re-checks, then waits on a watched word; the other side changes the
 * watched word first and notifies whenever it finds the flag set. Only the waiter clears the
 * flag: a waker that cleared it could make the next waker skip a notify the waiter still
 * needs (wasm/README.md).
 * @module
 */
import { type Clock, systemClock, type Timer } from "../core/mod.ts";

/** Longest wait Atomics and timers accept (≈ 24.8 days); longer timeouts are clamped. */
const MAX_WAIT_MS = 2 ** 31 - 1;

/** Where to wait and when to stop. */
export interface WaitSpec {
  i32: Int32Array;
  /** Index of the word the other side changes before it notifies. */
  watched: number;
  /** Index of the flag word saying "a waiter sleeps on `watched`". */
  flag: number;
  /** True once the awaited condition holds. */
  ready: () => boolean;
}

/** Throws a RangeError for a negative or NaN timeout; returns it clamped to the maximum. */
export function checkTimeout(timeoutMs: number): number {
  if (!(timeoutMs >= 0)) {
    throw new RangeError(`timeoutMs must be a number ≥ 0, got ${timeoutMs}`);
  }
  return Math.min(timeoutMs, MAX_WAIT_MS);
}

/** Blocks (Atomics.wait) until `spec.ready()` or `timeoutMs` passed; returns `ready()`. */
export function waitSync(spec: WaitSpec, timeoutMs: number, clock: Clock = systemClock): boolean {
  if (spec.ready()) return true;
  const { i32, watched, flag } = spec;
  const deadline = clock.monotonic() + timeoutMs;
  try {
    while (true) {
      Atomics.store(i32, flag, 1);
      const seen = Atomics.load(i32, watched);
      if (spec.ready()) return true;
      const left = deadline - clock.monotonic();
      if (left <= 0) return false;
      if (Atomics.wait(i32, watched, seen, left) === "timed-out") return spec.ready();
    }
  } finally {
    Atomics.store(i32, flag, 0);
  }
}

/** Re-arm period of the keep-alive timer once the timeout has passed. */
const KEEP_ALIVE_MS = 10;

/**
 * Like `waitSync` with Atomics.waitAsync. A ref'd timer keeps the event loop alive until the
 * wait settles: Deno does not count a pending waitAsync as work (denoland/deno#15358) and
 * would otherwise exit, or never deliver the wake-up or the timeout, when nothing else is
 * pending. The timer re-arms itself because V8 resolves a timed-out wait a little after the
 * deadline.
 */
export async function waitAsync(
  spec: WaitSpec,
  timeoutMs: number,
  clock: Clock = systemClock,
): Promise<boolean> {
  if (spec.ready()) return true;
  const { i32, watched, flag } = spec;
  const deadline = clock.monotonic() + timeoutMs;
  let settled = false;
  let keepAlive: Timer | undefined;
  const hold = (ms: number) => {
    keepAlive = clock.setTimer(() => settled || hold(KEEP_ALIVE_MS), ms);
  };
  hold(timeoutMs);
  try {
    while (true) {
      Atomics.store(i32, flag, 1);
      const seen = Atomics.load(i32, watched);
      if (spec.ready()) return true;
      const left = deadline - clock.monotonic();
      if (left <= 0) return false;
      const res = Atomics.waitAsync(i32, watched, seen, left);
      if ((res.async ? await res.value : res.value) === "timed-out") return spec.ready();
    }
  } finally {
    Atomics.store(i32, flag, 0);
    settled = true;
    keepAlive?.cancel();
  }
}
