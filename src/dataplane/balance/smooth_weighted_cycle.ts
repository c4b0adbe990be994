/** Longest cycle `smoothWeightedCycle` builds by default (256 KiB as a `Uint32Array`). */
export const MAX_CYCLE_LENGTH = 1 << 16;

const MAX_CYCLE_WORK = 1 << 22;

/** Greatest common divisor of two positive integers. */
export function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * One step of nginx's smooth weighted round robin: adds each weight to its `current`,
 * chooses the largest (the first on a tie), and takes the total weight off the chosen one.
 * Mutates `current`; the sum of `current` stays 0.
 *
 * @param skip indexes that may not be chosen (all weights still accrue); ignored when it
 *   would leave nothing
 * @returns the chosen index, or -1 when there are no weights
 */
export function smoothWeightedStep(
  weights: ArrayLike<number>,
  current: Float64Array,
  total: number,
  skip?: (index: number) => boolean,
): number {
  let best = -1;
  let bestAny = -1;
  for (let i = 0; i < weights.length; i++) {
    const c = (current[i] += weights[i]);
    if (bestAny < 0 || c > current[bestAny]) bestAny = i;
    if (skip?.(i)) continue;
    if (best < 0 || c > current[best]) best = i;
  }
  if (best < 0) best = bestAny;
  if (best >= 0) current[best] -= total;
  return best;
}

/**
 * The whole repeating sequence of nginx's smooth weighted round robin, so that a pick is
 * one array read. Weights are divided by their greatest common divisor first, so the
 * cycle has one entry per unit of reduced weight and every index appears exactly its
 * reduced weight times, evenly interleaved (weights 5, 1, 1 give 0 0 1 0 2 0 0).
 *
 * @param weights positive weights
 * @param maxLength the longest cycle worth building
 * @returns the cycle, or `undefined` when a weight is not an integer or the cycle (or the
 *   work to build it, length × count) would be too long; the caller then steps
 *   `smoothWeightedStep` per pick instead
 */
export function smoothWeightedCycle(
  weights: readonly number[],
  maxLength: number = MAX_CYCLE_LENGTH,
): Uint32Array | undefined {
  const n = weights.length;
  if (!weights.every((w) => Number.isInteger(w) && w > 0)) return undefined;
  const g = weights.reduce(gcd, 0);
  const reduced = weights.map((w) => w / g);
  const length = reduced.reduce((a, b) => a + b, 0);
  if (length > maxLength) return undefined;
  const cycle = new Uint32Array(length);
  if (length === n) { // all weights equal: plain rotation
    for (let i = 0; i < n; i++) cycle[i] = i;
    return cycle;
  }
  if (length * n > MAX_CYCLE_WORK) return undefined;
  const current = new Float64Array(n);
  for (let t = 0; t < length; t++) cycle[t] = smoothWeightedStep(reduced, current, length);
  return cycle;
}
