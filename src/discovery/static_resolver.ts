import { type Endpoint, type EndpointSpec, sameEndpoint, toEndpoint } from "./endpoint.ts";
import type { EndpointSet, EndpointWatcher, Resolver } from "./resolver.ts";

/**
 * A resolver over a fixed list of endpoints (a cluster's `endpoints` in the config file).
 * `replace()` swaps the list, as a config reload does, and notifies watchers
 * synchronously. The first set has version 1.
 *
 * @example
 * ```ts
 * const r = new StaticResolver([{ address: { hostname: "10.0.0.1", port: 80 } }]);
 * r.watch((set) => console.log(set.version, set.endpoints.length));
 * r.replace([]); // prints "2 0"
 * ```
 */
export class StaticResolver implements Resolver {
  #set: EndpointSet;
  #watchers = new Set<{ fn: EndpointWatcher }>();
  #closed = false;

  /**
   * Creates a resolver reporting `endpoints` as version 1.
   *
   * @param endpoints the initial list, in config order
   * @throws {TypeError} when two endpoints share an address
   * @throws {RangeError} when a weight or port is out of range (see `toEndpoint`)
   */
  constructor(endpoints: readonly EndpointSpec[]) {
    this.#set = Object.freeze({ version: 1, endpoints: buildEndpoints(endpoints) });
  }

  /** See `Resolver.current`. */
  current(): EndpointSet {
    return this.#set;
  }

  /** See `Resolver.watch`. */
  watch(fn: EndpointWatcher): () => void {
    if (this.#closed) return () => {};
    const entry = { fn };
    this.#watchers.add(entry);
    return () => void this.#watchers.delete(entry);
  }

  /** See `Resolver.close`. */
  close(): void {
    this.#closed = true;
    this.#watchers.clear();
  }

  /**
   * Replaces the endpoint list. When it differs from the current one (an endpoint added
   * or removed, or a weight or labels changed; order alone does not count), the version
   * goes up by one and every watcher is called, in subscription order, before this
   * returns. A closed resolver keeps its last set and ignores the call.
   *
   * @returns whether the set changed
   * @throws {TypeError} when two endpoints share an address (nothing is replaced)
   * @throws {RangeError} when a weight or port is out of range (nothing is replaced)
   * @throws the first error a watcher threw, after all watchers were called
   *   (an `AggregateError` when several threw); the new set is in place regardless
   */
  replace(endpoints: readonly EndpointSpec[]): boolean {
    const next = buildEndpoints(endpoints);
    if (this.#closed || sameSet(this.#set.endpoints, next)) return false;
    const set = Object.freeze({ version: this.#set.version + 1, endpoints: next });
    this.#set = set;
    const errors: unknown[] = [];
    for (const { fn } of [...this.#watchers]) {
      try {
        fn(set);
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) {
      throw new AggregateError(errors, `${errors.length} endpoint watchers failed`);
    }
    return true;
  }
}

function buildEndpoints(specs: readonly EndpointSpec[]): readonly Endpoint[] {
  const seen = new Set<string>();
  const endpoints = specs.map((spec) => {
    const ep = toEndpoint(spec);
    if (seen.has(ep.key)) {
      throw new TypeError(
        `Endpoint "${ep.key}" is listed twice: list each address once and raise its weight instead`,
      );
    }
    seen.add(ep.key);
    return ep;
  });
  return Object.freeze(endpoints);
}

function sameSet(a: readonly Endpoint[], b: readonly Endpoint[]): boolean {
  if (a.length !== b.length) return false;
  const byKey = new Map(a.map((ep) => [ep.key, ep]));
  return b.every((ep) => {
    const old = byKey.get(ep.key);
    return old !== undefined && sameEndpoint(old, ep);
  });
}
