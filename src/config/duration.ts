const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * The grammar of a duration: a whole number of up to nine digits followed by `ms`, `s`, `m`
 * or `h`, nothing else. Exposed for the JSON Schema, so editors check what the loader checks.
 */
export const DURATION_PATTERN: RegExp = /^(\d{1,9})(ms|s|m|h)$/;

/**
 * Parses a duration such as `250ms`, `2s`, `1m` or `1h` into milliseconds.
 *
 * @returns the milliseconds, or `undefined` when `text` is not a duration
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

/** Formats milliseconds back into the shortest exact duration text (`1500` → `1500ms`). */
export function formatDuration(ms: number): string {
  for (const unit of ["h", "m", "s"]) {
    if (ms !== 0 && ms % UNITS[unit] === 0) return `${ms / UNITS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
