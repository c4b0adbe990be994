import type { Endpoint } from "./endpoint.ts";

/** A snapshot of a cluster's endpoints. Immutable; a change produces a new set. */
export interface EndpointSet {
  /** Grows with every change reported by one resolver; never repeats or goes back. */
  readonly version: number;
  /** The endpoints, keys unique. May be empty. */
  readonly endpoints: readonly Endpoint[];
}

/** Called with the new set each time a resolver's endpoints change. */
export type EndpointWatcher = (set: EndpointSet) => void;

/**
 * The source of one cluster's endpoints: a static list from config, and later gossip
 * (SWIM) or DNS. Every implementation passes `tests/discovery/resolver_conformance.ts`.
 *
 * @example
 * ```ts
 * let set = resolver.current();
 * const stop = resolver.watch((next) => (set = next));
 * // ... later
 * stop();
 * ```
 */
export interface Resolver {
  /** The latest set. Still answers after `close()`, with the last set seen. */
  current(): EndpointSet;
  /**
   * Calls `fn` with each new set after a change (not with the current one: read
   * `current()` first). Each call subscribes anew, even for the same function.
   *
   * @returns a function that unsubscribes; calling it again does nothing
   */
  watch(fn: EndpointWatcher): () => void;
  /** Stops reporting changes and drops all watchers. Idempotent. */
  close(): void;
}
