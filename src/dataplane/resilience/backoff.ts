import type { Rng } from "../../core/rng.ts";

/**
 * Delay before retry number `retry` (1 for the first retry): exponential backoff with full
 * jitter, as Envoy does — uniform in [0, min(max, base × 2^(retry-1))).
 *
 * @param retry 1-based retry number
 * @param baseMs base interval in milliseconds
 * @param maxMs cap in milliseconds (Envoy's default: 10 × base)
 * @param rng uniform random source
 */
export function backoffDelay(retry: number, baseMs: number, maxMs: number, rng: Rng): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(30, retry - 1));
  return Math.floor(rng() * ceiling);
}
