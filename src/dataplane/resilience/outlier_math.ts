/**
 * The arithmetic of outlier detection (Envoy's rules), as plain functions: how long an
 * ejection lasts, whether one more endpoint may be ejected, and the success-rate threshold.
 * @module
 */

/**
 * How long an ejection lasts: `baseMs` times the endpoint's ejections in a row
 * (`multiplier`), at most `max(maxMs, baseMs)`.
 *
 * @example
 * ```ts
 * ejectionTimeMs(30_000, 300_000, 3); // 90_000
 * ejectionTimeMs(30_000, 300_000, 20); // 300_000
 * ```
 */
export function ejectionTimeMs(baseMs: number, maxMs: number, multiplier: number): number {
  return Math.min(baseMs * multiplier, Math.max(maxMs, baseMs));
}

/**
 * The ejection multiplier after one more ejection. Like Envoy it stops growing once the
 * ejection time it gives reaches the cap, so that a host back from a long run of ejections
 * needs fewer good intervals to get short ejections again.
 */
export function nextEjectionMultiplier(baseMs: number, maxMs: number, multiplier: number): number {
  return multiplier * baseMs < maxMs + baseMs ? multiplier + 1 : multiplier;
}

/**
 * Whether one more endpoint may be ejected when `ejected` of `total` already are: while the
 * share stays within `maxPercent`, and — as Envoy — always the first one when `maxPercent`
 * is above 0, however few endpoints there are.
 *
 * @example
 * ```ts
 * mayEject(0, 3, 10); // true: one endpoint may always be ejected
 * mayEject(1, 3, 10); // false: 2 of 3 is more than 10 %
 * mayEject(1, 10, 20); // true: 2 of 10 is 20 %
 * ```
 */
export function mayEject(ejected: number, total: number, maxPercent: number): boolean {
  if (maxPercent <= 0 || ejected >= total) return false;
  return ejected === 0 || (ejected + 1) * 100 <= maxPercent * total;
}

/**
 * Envoy's success-rate threshold: `mean − stdev × stdevFactor / 1000` over `rates` (success
 * rates in percent), with the population standard deviation.
 *
 * @param rates the success rates of the endpoints that had enough requests (at least one)
 * @param stdevFactor the configured factor, in thousandths (1900 is 1.9)
 * @throws {RangeError} when `rates` is empty
 */
export function successRateThreshold(rates: readonly number[], stdevFactor: number): number {
  if (rates.length === 0) {
    throw new RangeError("A success-rate threshold needs at least one rate: pass some rates");
  }
  let sum = 0;
  for (const r of rates) sum += r;
  const mean = sum / rates.length;
  let squares = 0;
  for (const r of rates) squares += (r - mean) * (r - mean);
  const stdev = Math.sqrt(squares / rates.length);
  return mean - stdev * (stdevFactor / 1000);
}
