import type { ClusterConfig } from "../config/schema.ts";
import type { Clock, Logger, TimerWheel } from "../core/mod.ts";
import type { MeshDialer } from "../dataplane/mesh/mesh_dialer.ts";
import type { PoolFactory } from "../dataplane/cluster.ts";
import { H1Pool, type PoolLimits } from "../dataplane/pool/h1_pool.ts";
import { H2Pool } from "../dataplane/pool/h2_pool.ts";
import { ConnectionBudget } from "../dataplane/pool/connection_budget.ts";

/** What `EndpointPools` needs from the data plane. */
export interface EndpointPoolsDeps {
  clock: Clock;
  log: Logger;
  wheel: TimerWheel;
  /** The dialer of mutual-TLS hops, once the identity is loaded (see `DataPlaneIdentity`). */
  mesh: () => MeshDialer | undefined;
}

/**
 * Builds the connection pools of upstream endpoints (HTTP/1.1, HTTP/2, or HTTP/2 over mutual
 * TLS), each counted against its cluster's connection budget. A data plane shares the pools
 * it builds across its versions with `SharedPools`, and the budgets by cluster name.
 */
export class EndpointPools {
  readonly #deps: EndpointPoolsDeps;
  /** Each cluster's `limits` on connections and pending requests, by cluster name. */
  readonly #budgets = new Map<string, ConnectionBudget>();

  constructor(deps: EndpointPoolsDeps) {
    this.#deps = deps;
  }

  /** The connection budget of cluster `c` (by name: shared by its versions and pools). */
  budget(c: ClusterConfig): ConnectionBudget {
    let b = this.#budgets.get(c.name);
    if (!b) {
      b = new ConnectionBudget(c.limits.max_connections, c.limits.max_pending_requests);
      this.#budgets.set(c.name, b);
    }
    return b;
  }

  /** Builds the pool of one endpoint (shared across versions by `SharedPools`). */
  readonly create: PoolFactory = (ep, c) => {
    const d = this.#deps;
    const now = () => d.clock.monotonic();
    const budget = this.budget(c);
    if (c.tls.mode === "mtls") {
      const mesh = d.mesh();
      if (!mesh) throw new Error(`cluster "${c.name}" uses mtls but no identity is loaded`);
      return new H2Pool(ep.address, poolLimits(c), {
        wheel: d.wheel,
        now,
        log: d.log,
        dial: (_addr, timeoutMs) => mesh.dial(ep, c, timeoutMs),
        budget,
      });
    }
    return c.protocol === "http2"
      ? new H2Pool(ep.address, poolLimits(c), { wheel: d.wheel, now, log: d.log, budget })
      : new H1Pool(ep.address, poolLimits(c), { wheel: d.wheel, now, budget });
  };
}

function poolLimits(c: ClusterConfig): PoolLimits {
  return {
    maxConnections: c.pool.max_connections,
    maxPendingRequests: c.pool.max_pending_requests,
    maxRequestsPerConnection: c.pool.max_requests_per_connection,
    idleTimeoutMs: c.pool.idle_timeout,
    connectTimeoutMs: c.connect_timeout,
  };
}
