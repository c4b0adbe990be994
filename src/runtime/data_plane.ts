import type { ClusterConfig, Config, ListenerConfig } from "../config/schema.ts";
import type { SecureAcceptor } from "../dataplane/mesh/secure_acceptor.ts";
import { AuthzPolicy } from "../security/authz.ts";
import { type Clock, type Logger, type Rng, TimerWheel } from "../core/mod.ts";
import { type EndpointSpec, type Resolver, StaticResolver } from "../discovery/mod.ts";
import type { MeshDialer } from "../dataplane/mesh/mesh_dialer.ts";
import { ClusterRuntime, type PoolFactory } from "../dataplane/cluster.ts";
import { type ClusterView, clusterView } from "../dataplane/cluster_view.ts";
import { HttpProxy } from "../dataplane/http/proxy.ts";
import { RouteHandler } from "../dataplane/http/route_handler.ts";
import { Router } from "../dataplane/http/router.ts";
import { Listener } from "../dataplane/listener.ts";
import { H1Pool, type PoolLimits } from "../dataplane/pool/h1_pool.ts";
import { H2Pool } from "../dataplane/pool/h2_pool.ts";
import { DataplaneStats } from "../dataplane/stats.ts";
import type { AccessLogSink, MetricsRegistry } from "../telemetry/mod.ts";

/** What a data plane needs from whoever runs it (the sidecar or a data-plane Worker). */
export interface DataPlaneDeps {
  clock: Clock;
  rng: Rng;
  log: Logger;
  registry: MetricsRegistry;
  accessLog: AccessLogSink;
  /** Bind listeners with SO_REUSEPORT (several Workers on one port). */
  reusePort?: boolean;
  /** The Worker's index in node mode; absent in the main isolate. */
  worker?: string;
  /**
   * The endpoint source of a cluster whose discovery is not static (gossip). Without it, or
   * when it returns undefined, a cluster serves its configured endpoints.
   */
  resolver?: (cluster: ClusterConfig) => Resolver | undefined;
}

/** What a data plane using mutual TLS gets at start, once the identity is loaded. */
export interface DataPlaneIdentity {
  /** Opens the hops of clusters with `tls.mode: mtls`; required when any cluster has it. */
  mesh?: MeshDialer;
  /** Binds listeners with `tls.mode: mtls`; required when any listener has it. */
  secure?: (listener: ListenerConfig) => Promise<SecureAcceptor>;
}

/**
 * The listeners and clusters of one config, with their pools, proxy and metrics: everything
 * that carries traffic, and nothing else (no admin, no process metrics). The sidecar runs one
 * in the main isolate; in node mode every data-plane Worker runs its own.
 */
export class DataPlane {
  readonly config: Config;
  readonly clusters = new Map<string, ClusterRuntime>();
  readonly listeners: Listener[] = [];
  readonly stats: DataplaneStats;
  readonly #deps: DataPlaneDeps;
  readonly #wheel: TimerWheel;

  constructor(config: Config, deps: DataPlaneDeps) {
    this.config = config;
    this.#deps = deps;
    this.#wheel = new TimerWheel(deps.clock, 10);
    this.stats = new DataplaneStats(deps.registry, deps.accessLog, { worker: deps.worker });
  }

  /**
   * Builds the clusters and binds every listener.
   *
   * @throws (as a rejection) when a listener cannot be bound; the ones already bound are
   *   closed again
   */
  async start(identity: DataPlaneIdentity = {}): Promise<void> {
    const d = this.#deps;
    const stats = this.stats;
    const now = () => d.clock.monotonic();
    const mesh = identity.mesh;
    const pools: PoolFactory = (ep, c) => {
      if (c.tls.mode === "mtls") {
        if (!mesh) throw new Error(`cluster "${c.name}" uses mtls but no identity is loaded`);
        return new H2Pool(ep.address, poolLimits(c), {
          wheel: this.#wheel,
          now,
          log: d.log,
          dial: (_addr, timeoutMs) => mesh.dial(ep, c, timeoutMs),
        });
      }
      return c.protocol === "http2"
        ? new H2Pool(ep.address, poolLimits(c), { wheel: this.#wheel, now, log: d.log })
        : new H1Pool(ep.address, poolLimits(c), { wheel: this.#wheel, now });
    };
    for (const c of this.config.clusters) {
      this.clusters.set(
        c.name,
        new ClusterRuntime(c, d.resolver?.(c) ?? new StaticResolver(staticEndpoints(c)), {
          rng: d.rng,
          clock: d.clock,
          pools,
          counters: stats.clusterCounters(c.name),
        }),
      );
    }
    const proxy = new HttpProxy({
      clusters: this.clusters,
      clock: d.clock,
      wheel: this.#wheel,
      rng: d.rng,
      log: d.log,
    });
    const denied = d.registry.counter(
      "skiff_authz_denied",
      "Requests (TCP: connections) an authorization policy denied, by listener.",
      ["listener"],
    );
    try {
      for (const l of this.config.listeners) {
        const routes = new Map(
          l.routes.flatMap((r) => r.authz ? [[r, new AuthzPolicy(r.authz.rules)] as const] : []),
        );
        const authz = l.authz || routes.size > 0
          ? {
            policy: l.authz && new AuthzPolicy(l.authz.rules),
            routes,
            onDenied: () => denied.labels(l.name).inc(),
          }
          : undefined;
        const listener = new Listener(l, {
          clock: d.clock,
          wheel: this.#wheel,
          log: d.log.child({ listener: l.name }),
          handler: new RouteHandler(new Router(l.routes), proxy, stats, d.log, authz),
          clusters: this.clusters,
          sink: stats,
          events: stats.listenerEvents(l.name),
          reusePort: d.reusePort,
          secure: identity.secure,
          authz,
          mesh,
        });
        await listener.start();
        this.listeners.push(listener);
        d.log.info("listener bound", {
          listener: l.name,
          protocol: l.protocol,
          address: `${listener.addr.hostname}:${listener.addr.port}`,
        });
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** The clusters as the admin API shows them. */
  views(): ClusterView[] {
    return [...this.clusters.values()].map(clusterView);
  }

  /** Closes the listeners, their open connections and the pools. */
  async stop(): Promise<void> {
    await Promise.all(this.listeners.map((l) => l.close(true)));
    for (const c of this.clusters.values()) c.close();
    this.#wheel.clear();
  }
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

/** A cluster's configured endpoints as discovery describes them. */
function staticEndpoints(c: ClusterConfig): EndpointSpec[] {
  return c.endpoints.map((e) => ({
    address: e.address,
    weight: e.weight,
    labels: e.labels,
    spiffeId: e.spiffe_id,
  }));
}
