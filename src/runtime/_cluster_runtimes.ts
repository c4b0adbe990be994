import type { ClusterConfig, Config } from "../config/schema.ts";
import type { Clock, Logger, Rng } from "../core/mod.ts";
import { type EndpointSpec, type Resolver, StaticResolver } from "../discovery/mod.ts";
import { ClusterRuntime, type PoolFactory } from "../dataplane/cluster.ts";
import type { ConfigVersion } from "../dataplane/config_version.ts";
import type { ConnectionBudget } from "../dataplane/pool/connection_budget.ts";
import type { DataplaneStats } from "../dataplane/stats.ts";
import { sameJson } from "../config/diff.ts";
import type { ResilienceMetrics } from "./resilience_metrics.ts";

/** What `ClusterRuntimes` needs from the data plane. */
export interface ClusterRuntimesDeps {
  clock: Clock;
  rng: Rng;
  log: Logger;
  /** The endpoint source of a non-static cluster (see `DataPlaneDeps.resolver`). */
  resolver?: (cluster: ClusterConfig) => Resolver | undefined;
  /** The pools of the clusters' endpoints (shared by all versions). */
  pools: PoolFactory;
  /** The connection budget of a cluster, by its name. */
  budget: (c: ClusterConfig) => ConnectionBudget;
  stats: DataplaneStats;
  metrics: ResilienceMetrics;
}

/**
 * The cluster runtimes of a data plane's live versions. Each version gets the clusters of its
 * config: an unchanged cluster is carried over from the previous version as it is, a changed
 * one is built anew and adopts the pools and health of the old one (and its circuit breaker,
 * when that is unchanged). A runtime closes once no live version uses it.
 */
export class ClusterRuntimes {
  readonly #deps: ClusterRuntimesDeps;
  /** How many live versions use each cluster runtime; it closes at zero. */
  readonly #clusterUses = new Map<ClusterRuntime, number>();

  constructor(deps: ClusterRuntimesDeps) {
    this.#deps = deps;
  }

  /**
   * The clusters of a version of `config`, carrying over the unchanged clusters of `prev`;
   * each counts one use more.
   *
   * @throws when a cluster cannot be built; the uses taken so far are given back
   */
  build(config: Config, prev: ConfigVersion | undefined): Map<string, ClusterRuntime> {
    const d = this.#deps;
    const clusters = new Map<string, ClusterRuntime>();
    try {
      for (const c of config.clusters) {
        d.budget(c).setLimits(c.limits.max_connections, c.limits.max_pending_requests);
        const old = prev?.clusters.get(c.name);
        const runtime = old && JSON.stringify(old.config) === JSON.stringify(c)
          ? old
          : new ClusterRuntime(c, d.resolver?.(c) ?? new StaticResolver(staticEndpoints(c)), {
            rng: d.rng,
            clock: d.clock,
            pools: d.pools,
            counters: d.stats.clusterCounters(c.name),
            breaker: old && sameJson(old.config.circuit_breaker, c.circuit_breaker)
              ? old.breaker
              : undefined,
            onBreakerTransition: c.circuit_breaker && d.metrics.breaker("cluster", c.name),
            log: d.log,
          });
        if (old && runtime !== old) {
          runtime.adoptPools(old);
          runtime.adoptHealth(old);
        }
        clusters.set(c.name, runtime);
        this.#clusterUses.set(runtime, (this.#clusterUses.get(runtime) ?? 0) + 1);
      }
    } catch (err) {
      // A cluster that cannot be built (gossip discovery while gossip is off): undo.
      this.unuse(clusters.values());
      throw err;
    }
    return clusters;
  }

  /** One version less uses each of `runtimes`; those no version uses any more close. */
  unuse(runtimes: Iterable<ClusterRuntime>): void {
    for (const runtime of runtimes) {
      const uses = (this.#clusterUses.get(runtime) ?? 1) - 1;
      if (uses > 0) {
        this.#clusterUses.set(runtime, uses);
        continue;
      }
      this.#clusterUses.delete(runtime);
      runtime.close();
    }
  }
}

/** A cluster's configured endpoints as discovery describes them. */
function staticEndpoints(c: ClusterConfig): EndpointSpec[] {
  return c.endpoints.map((e) => ({
    address: e.address,
    weight: e.weight,
    labels: e.labels,
    spiffeId: e.spiffe_id,
  }));
}
