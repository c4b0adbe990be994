import type { ClusterConfig } from "../../config/schema.ts";
import type { Cancel } from "../../core/cancel.ts";
import type { Endpoint } from "../../discovery/endpoint.ts";
import type { PoolFactory, UpstreamPool } from "../cluster.ts";
import type { ProxyRequest, ProxyResponse } from "../http/message.ts";
import type { ExchangeTiming } from "./h1_connection.ts";

interface Entry {
  pool: UpstreamPool;
  leases: number;
}

/**
 * Connection pools shared by the config versions of a data plane, so that a reload keeps the
 * open connections to every endpoint that is still there. A pool is identified by its cluster's
 * name, its endpoint (address and expected SPIFFE ID) and every cluster setting that shapes a
 * connection (protocol, TLS, pool limits, connect timeout): a reload that changes none of them
 * hands the new cluster the very same pool. Each cluster gets a lease; the pool closes when its
 * last lease is closed.
 *
 * @example
 * ```ts
 * const shared = new SharedPools((ep, c) => new H1Pool(ep.address, limits(c), deps));
 * const cluster = new ClusterRuntime(config, resolver, { ...deps, pools: shared.factory });
 * ```
 */
export class SharedPools {
  readonly #create: PoolFactory;
  readonly #entries = new Map<string, Entry>();

  /** @param create builds a new pool for an endpoint of a cluster */
  constructor(create: PoolFactory) {
    this.#create = create;
  }

  /** The factory clusters use: a lease on the shared pool of the endpoint. */
  readonly factory: PoolFactory = (ep, c) => {
    const key = poolKey(ep, c);
    let e = this.#entries.get(key);
    if (!e) {
      e = { pool: this.#create(ep, c), leases: 0 };
      this.#entries.set(key, e);
    }
    e.leases++;
    return new PoolLease(e.pool, () => this.#release(key, e));
  };

  /** Pools open now (for tests and reporting). */
  get size(): number {
    return this.#entries.size;
  }

  /** Closes every pool, leased or not (the data plane is stopping). */
  closeAll(): void {
    for (const e of this.#entries.values()) e.pool.close();
    this.#entries.clear();
  }

  #release(key: string, e: Entry): void {
    if (--e.leases > 0 || this.#entries.get(key) !== e) return;
    this.#entries.delete(key);
    e.pool.close();
  }
}

/** What makes two pools interchangeable: the cluster, the endpoint and the connection settings. */
function poolKey(ep: Endpoint, c: ClusterConfig): string {
  return JSON.stringify([
    c.name,
    ep.key,
    ep.spiffeId ?? "",
    c.protocol,
    c.tls,
    c.pool,
    c.connect_timeout,
  ]);
}

/** One cluster's hold on a shared pool: closing it gives the hold back. */
class PoolLease implements UpstreamPool {
  readonly #pool: UpstreamPool;
  #release: (() => void) | null;

  constructor(pool: UpstreamPool, release: () => void) {
    this.#pool = pool;
    this.#release = release;
  }

  request(req: ProxyRequest, timing: ExchangeTiming, cancel: Cancel): Promise<ProxyResponse> {
    return this.#pool.request(req, timing, cancel);
  }

  get open(): number {
    return this.#pool.open;
  }

  get idle(): number {
    return this.#pool.idle;
  }

  get pending(): number {
    return this.#pool.pending;
  }

  close(): void {
    const release = this.#release;
    this.#release = null;
    release?.();
  }
}
