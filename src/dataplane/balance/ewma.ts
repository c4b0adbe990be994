/** Default time constant of the latency estimate: 10 s, as in Finagle and linkerd. */
export const DEFAULT_EWMA_DECAY_MS = 10_000;

/**
 * The latency a host with no samples is assumed to have: 30 ms, linkerd's default.
 *
 * It is a penalty, not a guess: in-mesh latencies are usually a few milliseconds, so a
 * host without samples is tried once the known hosts are slower than this or busy, and
 * its requests in flight raise its cost as for any host, so it is not flooded before it
 * has answered. Its first response replaces the penalty. While it is not tried, the
 * penalty fades toward 0 like any estimate (`decayedEwma`), so it is probed eventually.
 */
export const DEFAULT_EWMA_PENALTY_MS = 30;

/**
 * One step of the Finagle/linkerd peak-EWMA latency estimate: a sample above the estimate
 * replaces it at once (peaks are believed immediately); a lower one is blended in with
 * weight `1 - exp(-elapsedMs / decayMs)`, so the estimate falls slowly and the longer
 * since the last sample, the more the new one counts.
 *
 * @param prev the estimate at the previous sample, in milliseconds
 * @param sample the new latency, in milliseconds
 * @param elapsedMs time since the previous sample; negative counts as 0
 * @param decayMs the time constant, above 0
 * @returns the new estimate
 * @example
 * ```ts
 * peakEwma(10, 50, 0, 10_000); // 50: a peak is taken as is
 * peakEwma(50, 10, 10_000, 10_000); // ≈ 24.7: 1/e of the gap remains after one decay time
 * ```
 */
export function peakEwma(
  prev: number,
  sample: number,
  elapsedMs: number,
  decayMs: number = DEFAULT_EWMA_DECAY_MS,
): number {
  if (sample > prev) return sample;
  const w = Math.exp(-Math.max(0, elapsedMs) / decayMs);
  return prev * w + sample * (1 - w);
}

/**
 * An estimate seen `elapsedMs` after its last sample, decayed toward 0 with the same time
 * constant (as Finagle and linkerd read it). Without this, a host that once answered
 * slowly would lose every comparison and never be sampled again; with it, an idle host
 * becomes attractive again and gets re-probed.
 *
 * @param value the estimate at its last sample, in milliseconds
 * @param elapsedMs time since that sample; negative counts as 0
 * @param decayMs the time constant, above 0
 * @example
 * ```ts
 * decayedEwma(100, 10_000, 10_000); // ≈ 36.8
 * ```
 */
export function decayedEwma(
  value: number,
  elapsedMs: number,
  decayMs: number = DEFAULT_EWMA_DECAY_MS,
): number {
  return elapsedMs <= 0 ? value : value * Math.exp(-elapsedMs / decayMs);
}
