/**
 * Default histogram bounds for proxy latencies in seconds: a 1-2-5 series from 50 µs to 20 s,
 * then 30 s and 60 s (common timeouts). 21 finite buckets plus `+Inf`.
 */
export const DEFAULT_LATENCY_BUCKETS: readonly number[] = Object.freeze([
  0.00005,
  0.0001,
  0.0002,
  0.0005,
  0.001,
  0.002,
  0.005,
  0.01,
  0.02,
  0.05,
  0.1,
  0.2,
  0.5,
  1,
  2,
  5,
  10,
  20,
  30,
  60,
]);

/**
 * Checks histogram bucket upper bounds and returns them as a `Float64Array` without a trailing
 * `+Inf` (which is always implied).
 *
 * @param buckets finite upper bounds, strictly ascending; a final `Infinity` is allowed
 * @throws {RangeError} when there are no finite bounds, a bound is not finite, or the bounds
 *   are not strictly ascending
 */
export function normalizeBuckets(buckets: readonly number[]): Float64Array {
  const finite = buckets.at(-1) === Infinity ? buckets.slice(0, -1) : buckets;
  if (finite.length === 0) {
    throw new RangeError("A histogram needs at least one finite bucket bound, got none");
  }
  for (let i = 0; i < finite.length; i++) {
    if (!Number.isFinite(finite[i])) {
      throw new RangeError(
        `Histogram bucket bounds must be finite numbers, got ${finite[i]} at index ${i}`,
      );
    }
    if (i > 0 && !(finite[i] > finite[i - 1])) {
      throw new RangeError(
        `Histogram bucket bounds must be strictly ascending, got ${finite[i - 1]} then ` +
          `${finite[i]} at index ${i}`,
      );
    }
  }
  return Float64Array.from(finite);
}
