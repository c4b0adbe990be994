import type { ClusterConfig, Config } from "../config/schema.ts";
import { type Clock, type Logger, type Rng, TimerWheel } from "../core/mod.ts";
import { AdminServer } from "../control/admin.ts";
import { StaticResolver } from "../discovery/mod.ts";
import { ClusterRuntime, type PoolFactory } from "../dataplane/cluster.ts";
import { HttpProxy } from "../dataplane/http/proxy.ts";
import { RouteHandler } from "../dataplane/http/route_handler.ts";
import { Router } from "../dataplane/http/router.ts";
import { Listener } from "../dataplane/listener.ts";
import { H1Pool, type PoolLimits } from "../dataplane/pool/h1_pool.ts";
import { H2Pool } from "../dataplane/pool/h2_pool.ts";
import { DataplaneStats } from "../dataplane/stats.ts";
import {
  type AccessLogSink,
  createAccessLog,
  MetricsRegistry,
  registerProcessMetrics,
} from "../telemetry/mod.ts";

/** What the sidecar needs from the composition root. */
export interface SidecarDeps {
  clock: Clock;
  rng: Rng;
  log: Logger;
  /** Bind listeners with SO_REUSEPORT. */
  reusePort?: boolean;
}

/**
 * One running skiff data plane built from a config: clusters, listeners, metrics, access
 * log and the admin server. `start` binds everything or throws (binding nothing half-way);
 * `stop` closes it all.
 */
export class Sidecar {
  readonly config: Config;
  readonly registry = new MetricsRegistry();
  readonly clusters = new Map<string, ClusterRuntime>();
  readonly listeners: Listener[] = [];
  admin: AdminServer | undefined;
  readonly #deps: SidecarDeps;
  readonly #wheel: TimerWheel;
  readonly #accessLog: AccessLogSink;
  #ready = false;

  constructor(config: Config, deps: SidecarDeps) {
    this.config = config;
    this.#deps = deps;
    this.#wheel = new TimerWheel(deps.clock, 10);
    this.#accessLog = createAccessLog(config.access_log, {
      clock: deps.clock,
      logger: deps.log,
      registry: this.registry,
    });
  }

  /** True once every listener is bound. */
  get ready(): boolean {
    return this.#ready;
  }

  /**
   * Builds and binds everything. Asynchronous in form so that start-up steps that wait
   * (Workers, discovery) can join without changing callers.
   *
   * @throws when a listener or the admin port cannot be bound (as a rejection)
   */
  start(): Promise<void> {
    const d = this.#deps;
    const cfg = this.config;
    registerProcessMetrics(this.registry, d.clock);
    const stats = new DataplaneStats(this.registry, this.#accessLog);
    const now = () => d.clock.monotonic();
    const pools: PoolFactory = (ep, c) =>
      c.protocol === "http2"
        ? new H2Pool(ep.address, poolLimits(c), { wheel: this.#wheel, now, log: d.log })
        : new H1Pool(ep.address, poolLimits(c), { wheel: this.#wheel, now });
    for (const c of cfg.clusters) {
      this.clusters.set(
        c.name,
        new ClusterRuntime(c, new StaticResolver(c.endpoints), {
          rng: d.rng,
          clock: d.clock,
          pools,
          counters: stats.clusterCounters(c.name),
        }),
      );
    }
    stats.watchClusters(this.registry, () => this.clusters.values());
    const proxy = new HttpProxy({
      clusters: this.clusters,
      clock: d.clock,
      wheel: this.#wheel,
      rng: d.rng,
      log: d.log,
    });
    const handlers = new Map<string, RouteHandler>();
    for (const l of cfg.listeners) {
      handlers.set(l.name, new RouteHandler(new Router(l.routes), proxy, stats, d.log));
    }
    try {
      for (const l of cfg.listeners) {
        const listener = new Listener(l, {
          clock: d.clock,
          wheel: this.#wheel,
          log: d.log.child({ listener: l.name }),
          handler: handlers.get(l.name)!,
          clusters: this.clusters,
          sink: stats,
          events: stats.listenerEvents(l.name),
          reusePort: d.reusePort,
        });
        listener.start();
        this.listeners.push(listener);
        d.log.info("listener bound", {
          listener: l.name,
          protocol: l.protocol,
          address: `${listener.addr.hostname}:${listener.addr.port}`,
        });
      }
      if (cfg.admin) {
        this.admin = new AdminServer(cfg.admin.address, {
          config: () => this.config,
          clusters: () => this.clusters.values(),
          registry: this.registry,
          ready: () => this.#ready,
        }, d.log);
        d.log.info("admin bound", {
          address: `${this.admin.addr.hostname}:${this.admin.addr.port}`,
        });
      }
    } catch (err) {
      void this.stop();
      return Promise.reject(err);
    }
    this.#ready = true;
    return Promise.resolve();
  }

  /** Closes listeners, the admin server, pools and the access log. */
  async stop(): Promise<void> {
    this.#ready = false;
    await Promise.all(this.listeners.map((l) => l.close(true)));
    await this.admin?.close();
    for (const c of this.clusters.values()) c.close();
    await this.#accessLog.close();
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
