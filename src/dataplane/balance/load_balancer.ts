import type { Host } from "./host.ts";

/**
 * Chooses the host for each request of one cluster. Implementations: round robin, least
 * request, peak EWMA and ring hash; all pass `tests/dataplane/balance/conformance.ts`.
 *
 * A balancer holds its own copy of the host list: changing the caller's array has no
 * effect until the next `update()`.
 */
export interface LoadBalancer {
  /**
   * Sets the hosts to choose from. Pass the same `Host` object for an endpoint that is
   * still present, so that its live counters and latency estimate carry over (balancers
   * read them; they never reset them). Call it again after a host's weight changed; an
   * update with the same hosts and weights changes nothing.
   *
   * @throws {TypeError} when two hosts share a key
   */
  update(hosts: readonly Host[]): void;
  /**
   * Chooses a host. On the hot path: does not allocate, O(1) or O(log n) in the usual
   * case, and never changes the host's counters (the caller calls `begin()`/`end()`).
   *
   * @param hashKey what a consistent-hash balancer hashes (ignored by the others)
   * @param avoid hosts this request already tried: another host is chosen when one
   *   exists, and the avoided ones are used again only when every host is avoided
   * @returns a host from the last `update()`, or `undefined` when there is none
   */
  pick(hashKey?: string, avoid?: ReadonlySet<Host>): Host | undefined;
}
