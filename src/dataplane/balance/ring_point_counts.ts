/** How many points a hash ring gets; see `ringPointCounts`. */
export interface RingSizeOptions {
  /** The fewest points on the ring (while under `maxRingSize`); default 1024, as Envoy. */
  minRingSize?: number;
  /** The most points on the ring (unless it has more hosts); default 131,072. */
  maxRingSize?: number;
  /** The fewest points for the lightest host (while under `maxRingSize`); default 128. */
  minHostPoints?: number;
}

/** Default `minRingSize`. */
export const DEFAULT_MIN_RING_SIZE = 1024;
/** Default `maxRingSize`: 1 MiB of ring at 8 bytes a point. */
export const DEFAULT_MAX_RING_SIZE = 1 << 17;
/** Default `minHostPoints`: keeps each host's share within about ±9 % (1/√128). */
export const DEFAULT_MIN_HOST_POINTS = 128;

/**
 * The number of points (virtual nodes) each host gets on a hash ring: `weight × scale`
 * rounded (at least 1), where `scale` is the smallest power of two that gives the lightest
 * host `minHostPoints` and the ring `minRingSize` points, halved while the ring would
 * exceed `maxRingSize`.
 *
 * Because the scale is a power of two and depends on the whole set only through these
 * bounds, adding or removing a host usually leaves every other host's points as they
 * were, so only that host's keys move. The scale changes, and keys move between the
 * remaining hosts too, only when a bound is crossed: with equal weights at 1↔2, 3↔4 and
 * 7↔8 hosts (1024, 512, 256, then 128 points each), or when the lightest host goes.
 *
 * @param weights the hosts' weights, each finite and above 0
 * @returns one count per weight
 * @throws {RangeError} when an option is not a positive integer, or the minimum ring size
 *   exceeds the maximum
 * @example
 * ```ts
 * ringPointCounts([1, 1, 1]); // [512, 512, 512]
 * ringPointCounts([1, 3]); // [256, 768]
 * ```
 */
export function ringPointCounts(
  weights: readonly number[],
  options: RingSizeOptions = {},
): number[] {
  const { minRingSize: minRing, maxRingSize: maxRing, minHostPoints: minHost } =
    checkRingSizeOptions(options);
  if (weights.length === 0) return [];
  const lightest = weights.reduce((a, b) => Math.min(a, b));
  const total = weights.reduce((a, b) => a + b, 0);
  let scale = 2 ** Math.ceil(Math.log2(Math.max(minHost / lightest, minRing / total)));
  const counts = (s: number) => weights.map((w) => Math.max(1, Math.round(w * s)));
  const size = (s: number) => counts(s).reduce((a, b) => a + b, 0);
  while (size(scale) < minRing) scale *= 2; // only when rounding fell short
  while (size(scale) > maxRing && size(scale) > weights.length) scale /= 2;
  return counts(scale);
}

/**
 * The options with defaults filled in.
 *
 * @throws {RangeError} when an option is not a positive integer, or the minimum ring size
 *   exceeds the maximum
 */
export function checkRingSizeOptions(options: RingSizeOptions): Required<RingSizeOptions> {
  const checked = {
    minRingSize: options.minRingSize ?? DEFAULT_MIN_RING_SIZE,
    maxRingSize: options.maxRingSize ?? DEFAULT_MAX_RING_SIZE,
    minHostPoints: options.minHostPoints ?? DEFAULT_MIN_HOST_POINTS,
  };
  for (const [name, value] of Object.entries(checked)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`Ring option ${name} is ${value}: use a whole number of 1 or more`);
    }
  }
  if (checked.minRingSize > checked.maxRingSize) {
    throw new RangeError(
      `Ring option minRingSize ${checked.minRingSize} exceeds maxRingSize ` +
        `${checked.maxRingSize}: raise maxRingSize or lower minRingSize`,
    );
  }
  return checked;
}
