/**
 * Whether one more retry may start under a retry budget (Envoy's `retry_budget`, linkerd's
 * retry ratio): retries in flight may not exceed `percent` of the requests in flight (rounded
 * down), with a floor of `minConcurrency` so that a quiet cluster can still retry.
 *
 * @param activeRequests requests in flight to the cluster (including retries)
 * @param activeRetries retries in flight to the cluster
 * @param percent budget as a percentage of active requests (0–100)
 * @param minConcurrency retries always allowed in flight regardless of load
 */
export function retryAllowed(
  activeRequests: number,
  activeRetries: number,
  percent: number,
  minConcurrency: number,
): boolean {
  // The tolerance keeps a product that binary floating point puts just below a whole number
  // (1500 × 4.6 / 100 = 68.99999999999999) from losing a retry.
  const share = Math.floor((activeRequests * percent) / 100 + 1e-9);
  const limit = Math.max(minConcurrency, share);
  return activeRetries < limit;
}
