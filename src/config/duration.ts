const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** The longest duration a timer can wait: 2^31 - 1 ms, about 24.8 days. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/**
 * The grammar of a duration: a whole number followed by `ms`, `s`, `m` or `h`, nothing else.
 * How large the number may be is checked apart (at most {@link MAX_DURATION_MS}), so that a
 * value too large is told so rather than called malformed. Exposed for the JSON Schema, so
 * editors check what the loader checks.
 */
export const DURATION_PATTERN: RegExp = /^(\d+)(ms|s|m|h)$/;

/**
 * Parses a duration such as `250ms`, `2s`, `1m` or `1h` into milliseconds.
 *
 * @returns the milliseconds, or `undefined` when `text` is not a duration; a number may be
 *   returned that is above {@link MAX_DURATION_MS} (inexact beyond 2^53), which callers that
 *   set timers must refuse
 * @example
 * ```ts
 * parseDuration("250ms"); // 250
 * parseDuration("2s"); // 2000
 * ```
 */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_PATTERN.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNITS[m[2]];
}

/**
 * The longest duration ({@link MAX_DURATION_MS}) in the unit `text` is written in, rounded
 * down to a whole number of it: `596h` for `1000h`, `2147483647ms` for `3000000000ms`.
 *
 * @param text a duration, as {@link parseDuration} accepts it
 * @returns the maximum as duration text, or `undefined` when `text` is not a duration
 */
export function maxDurationLike(text: string): string | undefined {
  const m = DURATION_PATTERN.exec(text.trim());
  if (!m) return undefined;
  return `${Math.floor(MAX_DURATION_MS / UNITS[m[2]])}${m[2]}`;
}

/** Formats milliseconds back into the shortest exact duration text (`1500` → `1500ms`). */
export function formatDuration(ms: number): string {
  for (const unit of ["h", "m", "s"]) {
    if (ms !== 0 && ms % UNITS[unit] === 0) return `${ms / UNITS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
