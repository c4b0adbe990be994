import type { ClusterConfig, Config, ListenerConfig } from "../config/schema.ts";
import type { ConnectionGate, SecureAcceptor } from "../dataplane/mesh/secure_acceptor.ts";
import { AuthzPolicy } from "../security/authz.ts";
import { type Clock, type Logger, type Rng, TimerWheel } from "../core/mod.ts";
import { type EndpointSpec, type Resolver, StaticResolver } from "../discovery/mod.ts";
import type { MeshDialer } from "../dataplane/mesh/mesh_dialer.ts";
import { ClusterRuntime, type PoolFactory } from "../dataplane/cluster.ts";
import { type ClusterView, clusterView } from "../dataplane/cluster_view.ts";
import { ConfigVersion, type ListenerVersion } from "../dataplane/config_version.ts";
import { HeadRing } from "../dataplane/http/head_ring.ts";
import { HttpProxy } from "../dataplane/http/proxy.ts";
import {
  type Forwarder,
  hasPolicy,
  PolicyForwarder,
  type RoutePolicy,
  routePolicy,
} from "../dataplane/http/route_policies.ts";
import type { RouteConfig } from "../config/schema.ts";
import { TokenBucket } from "../dataplane/resilience/token_bucket.ts";
import { shadowCheck, type ShadowReport, shadowSummary } from "../dataplane/shadow_check.ts";
import { RouteHandler } from "../dataplane/http/route_handler.ts";
import { Router } from "../dataplane/http/router.ts";
import { Listener } from "../dataplane/listener.ts";
import { H1Pool, type PoolLimits } from "../dataplane/pool/h1_pool.ts";
import { H2Pool } from "../dataplane/pool/h2_pool.ts";
import { SharedPools } from "../dataplane/pool/shared_pools.ts";
import { addressKey, clusterChanges, sameJson, sameSocket } from "../config/diff.ts";
import { type ResilienceMetrics, resilienceMetrics } from "./resilience_metrics.ts";
import { ConnectionBudget } from "../dataplane/pool/connection_budget.ts";
import { DataplaneStats } from "../dataplane/stats.ts";
import type { Counter } from "../telemetry/counter.ts";
import type { AccessLogSink, MetricsRegistry } from "../telemetry/mod.ts";
import type { ReloadOutcome } from "../control/lifecycle.ts";

/** What a data plane needs from whoever runs it (the sidecar or a data-plane Worker). */
export interface DataPlaneDeps {
  clock: Clock;
  rng: Rng;
  log: Logger;
  registry: MetricsRegistry;
  accessLog: AccessLogSink;
  /** Bind listeners with SO_REUSEPORT (several Workers on one port, or a hot restart). */
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
  secure?: (listener: ListenerConfig, gate?: ConnectionGate) => Promise<SecureAcceptor>;
}

/** What a reload did to listeners and clusters (see `ReloadOutcome.changes`). */
export type PlaneChanges = NonNullable<ReloadOutcome["changes"]>;

/** A new version the shadow check refused (`reload.guards`). */
export class ShadowRefusedError extends Error {
  readonly report: ShadowReport;

  constructor(report: ShadowReport) {
    super(
      "the shadow check refused the new config: " +
        report.violations.map((v) => v.message).join("; "),
    );
    this.name = "ShadowRefusedError";
    this.report = report;
  }
}

/**
 * The listeners and clusters of a config, with their pools, proxy and metrics: everything
 * that carries traffic, and nothing else (no admin, no process metrics). The sidecar runs one
 * in the main isolate; in node mode every data-plane Worker runs its own.
 *
 * Configs are immutable versions (`ConfigVersion`). `apply` builds the next one and swaps it
 * in: listeners whose address and TLS mode are unchanged keep their sockets, changed ones
 * are bound anew, removed ones drain; clusters whose config is unchanged are carried over
 * as they are, and changed ones keep the connection pools of their remaining endpoints.
 * Requests and tunnels in flight finish on the version they started with.
 */
export class DataPlane {
  /** The listeners serving the current version. */
  readonly listeners: Listener[] = [];
  readonly stats: DataplaneStats;
  readonly #deps: DataPlaneDeps;
  readonly #wheel: TimerWheel;
  readonly #pools: SharedPools;
  readonly #denied: (listener: string) => Counter;
  /** How many live versions use each cluster runtime; it closes at zero. */
  readonly #clusterUses = new Map<ClusterRuntime, number>();
  /** Listeners removed or rebound by a reload, still finishing their connections. */
  readonly #draining = new Set<Listener>();
  #identity: DataPlaneIdentity = {};
  /** The config to start with, until `start` builds its version. */
  readonly #initial: Config;
  #current: ConfigVersion | undefined;
  #nextId = 1;
  #liveVersions = 0;
  #drainRun: Promise<void> | undefined;
  /** Recent request heads, while the current version has `reload.shadow` on. */
  #heads: HeadRing | undefined;
  /** The last shadow check's report (`/config/diff`). */
  #shadow: ShadowReport | undefined;
  /** Policies and limits a version was built with, taken as current once it is (`#commit`). */
  readonly #pendingPolicies = new WeakMap<
    object,
    { policyKeys: Map<string, RoutePolicy>; limitKeys: Map<string, TokenBucket> }
  >();
  readonly #policiesOf = new WeakMap<ConfigVersion, object>();
  /** The head ring each version records into (the current one's becomes `#heads`). */
  readonly #headsOf = new WeakMap<ConfigVersion, HeadRing | undefined>();
  #stopped = false;
  /** Each cluster's `limits` on connections and pending requests, by cluster name. */
  readonly #budgets = new Map<string, ConnectionBudget>();
  /** Route policies and listener rate limits by what they were built from, kept across reloads. */
  #policies = new Map<string, RoutePolicy>();
  #listenerLimits = new Map<string, TokenBucket>();
  readonly #metrics: ResilienceMetrics;

  constructor(config: Config, deps: DataPlaneDeps) {
    this.#deps = deps;
    this.#wheel = new TimerWheel(deps.clock, 10);
    this.stats = new DataplaneStats(deps.registry, deps.accessLog, { worker: deps.worker });
    const denied = deps.registry.counter(
      "skiff_authz_denied",
      "Requests (TCP: connections) an authorization policy denied, by listener.",
      ["listener"],
    );
    this.#denied = (l) => denied.labels(l);
    deps.registry.gaugeFn(
      "skiff_config_versions_live",
      "Config versions still held (the current one plus older ones requests still use).",
      () => this.#liveVersions,
    );
    this.#pools = new SharedPools(this.#createPool);
    this.#initial = config;
    this.#metrics = resilienceMetrics(deps.registry, deps.log);
  }

  /** The current config. */
  get config(): Config {
    return this.#current?.config ?? this.#initial;
  }

  /** The current version (undefined before `start`). */
  get current(): ConfigVersion | undefined {
    return this.#current;
  }

  /** The clusters of the current version, by name. */
  get clusters(): ReadonlyMap<string, ClusterRuntime> {
    return this.#current?.clusters ?? new Map();
  }

  /** The last shadow check's report; undefined before the first reload with `reload.shadow`. */
  get shadowReport(): ShadowReport | undefined {
    return this.#shadow;
  }

  /** Connection pools open to upstream endpoints (shared by all versions). */
  get pools(): number {
    return this.#pools.size;
  }

  /**
   * Binds every listener of the config given to the constructor.
   *
   * @throws (as a rejection) when a listener cannot be bound; the ones already bound are
   *   closed again
   */
  async start(identity: DataPlaneIdentity = {}): Promise<void> {
    this.#identity = identity;
    // Built now, not earlier: discovery (gossip membership) starts before the data plane.
    const first = this.#current = this.#build(this.#initial, undefined);
    this.#commit(first);
    try {
      for (const l of first.config.listeners) {
        this.listeners.push(await this.#bind(first, l.name));
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /**
   * Makes `config` the current version. With `reload.shadow` on (in the running config), the
   * recent request heads are first replayed through the new routes (`shadowReport`), unless
   * `opts.shadow` is false (a return to the running config after a refused reload).
   *
   * @returns what happened to listeners and clusters, and the shadow check's report
   * @throws (as a rejection) `ShadowRefusedError` when a guard of `reload.guards` is
   *   violated; another error when a new listener cannot be bound (or a cluster needs an
   *   identity that is not loaded); the current version then stays, untouched
   */
  async apply(
    config: Config,
    opts: { shadow?: boolean } = {},
  ): Promise<PlaneChanges & { shadow?: ShadowReport }> {
    if (this.#drainRun) throw new Error("skiff is draining; the config is not applied");
    const prev = this.#current;
    if (!prev) throw new Error("the data plane is not started");
    this.#checkIdentity(config);
    let shadow: ShadowReport | undefined;
    if (prev.config.reload.shadow && this.#heads && opts.shadow !== false) {
      shadow = this.#shadow = shadowCheck(
        this.#heads.heads(),
        prev.config,
        config,
        prev.config.reload.guards,
      );
      this.#deps.log[shadow.ok ? "info" : "warn"](shadowSummary(shadow));
      if (!shadow.ok) throw new ShadowRefusedError(shadow);
    }
    const next = this.#build(config, prev);
    const changes = clusterChanges(prev.config, config);
    const lc = { added: [] as string[], removed: [] as string[], rebound: [] as string[] };
    const kept: Listener[] = [];
    const leaving: Listener[] = [];
    const toBind: string[] = [];
    const byName = new Map(this.listeners.map((l) => [l.name, l]));
    for (const l of config.listeners) {
      const old = byName.get(l.name);
      if (old && sameSocket(old.config, l)) kept.push(old);
      else {
        if (old) leaving.push(old);
        (old ? lc.rebound : lc.added).push(l.name);
        toBind.push(l.name);
      }
    }
    const names = new Set(config.listeners.map((l) => l.name));
    for (const l of this.listeners) {
      if (!names.has(l.name)) {
        leaving.push(l);
        lc.removed.push(l.name);
      }
    }
    // New sockets first, so that a port that cannot be bound leaves everything as it was.
    // A socket whose address an outgoing listener still holds waits for it (unless both can
    // share it with SO_REUSEPORT).
    const held = new Set(leaving.map((l) => addressKey(l.config)));
    const now = toBind.filter((n) => this.#deps.reusePort || !held.has(addressKey(lOf(config, n))));
    const later = toBind.filter((n) => !now.includes(n));
    const bound: Listener[] = [];
    try {
      for (const n of now) bound.push(await this.#bind(next, n));
    } catch (err) {
      await Promise.all(bound.map((l) => l.close(true)));
      next.release(); // closes the clusters only it had
      throw err;
    }
    for (const l of kept) l.update(next);
    for (const l of leaving) this.#retire(l);
    for (const n of later) {
      try {
        bound.push(await this.#bind(next, n));
      } catch (err) {
        this.#deps.log.error("a listener of the new config could not be bound", {
          listener: n,
          err,
        });
      }
    }
    const order = new Map(config.listeners.map((l, i) => [l.name, i]));
    this.listeners.splice(0, this.listeners.length, ...kept, ...bound);
    this.listeners.sort((a, b) => order.get(a.name)! - order.get(b.name)!);
    this.#current = next;
    this.#commit(next);
    prev.release();
    return {
      listeners: { ...lc, kept: kept.map((l) => l.name) },
      clusters: changes,
      shadow,
    };
  }

  /** The clusters as the admin API shows them. */
  views(): ClusterView[] {
    return [...this.clusters.values()].map(clusterView);
  }

  /**
   * Graceful drain: stops accepting on every listener, asks every connection to finish, and
   * waits until none is left or `timeoutMs` passed (then closes the rest); then closes the
   * pools. Idempotent.
   */
  drain(timeoutMs: number): Promise<void> {
    this.#drainRun ??= this.#drainAll(timeoutMs);
    return this.#drainRun;
  }

  async #drainAll(timeoutMs: number): Promise<void> {
    const all = [...this.listeners, ...this.#draining];
    const finished = Promise.all(all.map((l) => l.drain()));
    const deadline = Promise.withResolvers<void>();
    const timer = this.#deps.clock.setTimer(() => deadline.resolve(), timeoutMs);
    await Promise.race([finished, deadline.promise]);
    timer.cancel();
    const left = all.reduce((n, l) => n + l.openConnections, 0);
    if (left > 0) {
      this.#deps.log.warn("drain timeout: closing the connections still open", {
        connections: left,
        timeout_ms: timeoutMs,
      });
    }
    await this.stop();
  }

  /** Closes the listeners, their open connections and the pools. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const all = [...this.listeners, ...this.#draining];
    this.#draining.clear();
    await Promise.all(all.map((l) => l.close(true)));
    if (this.#current && !this.#current.released) this.#current.release();
    this.#pools.closeAll();
    this.#wheel.clear();
  }

  /**
   * Refuses a config whose mutual-TLS clusters or listeners have no identity to use (an
   * `identity` section added by a reload applies only at the next restart).
   */
  #checkIdentity(config: Config): void {
    const c = config.clusters.find((c) => c.tls.mode === "mtls");
    if (c && !this.#identity.mesh) {
      throw new Error(
        `cluster "${c.name}" uses mtls but no identity is loaded — identity applies at the ` +
          "next (hot) restart",
      );
    }
    const l = config.listeners.find((l) => l.tls.mode === "mtls");
    if (l && !this.#identity.secure) {
      throw new Error(
        `listener "${l.name}" uses mtls but no identity is loaded — identity applies at the ` +
          "next (hot) restart",
      );
    }
  }

  /** Drains a listener a reload removed or rebound, then closes it (at `drain.timeout`). */
  #retire(l: Listener): void {
    this.#draining.add(l);
    const timeoutMs = this.config.drain.timeout;
    const timer = this.#deps.clock.setTimer(() => void l.close(true), timeoutMs);
    l.drain().then(async () => {
      timer.cancel();
      await l.close(true);
      this.#draining.delete(l);
      this.#deps.log.info("listener drained", { listener: l.name });
    });
  }

  async #bind(version: ConfigVersion, name: string): Promise<Listener> {
    const d = this.#deps;
    const listener = new Listener(version, name, {
      clock: d.clock,
      wheel: this.#wheel,
      log: d.log.child({ listener: name }),
      sink: this.stats,
      events: this.stats.listenerEvents(name),
      onRateLimited: () => this.#metrics.listenerLimited(name),
      reusePort: d.reusePort,
      secure: this.#identity.secure,
      mesh: this.#identity.mesh,
    });
    try {
      await listener.start();
    } catch (err) {
      await listener.close(true);
      throw err;
    }
    const l = listener.config;
    d.log.info("listener bound", {
      listener: name,
      protocol: l.protocol,
      address: `${listener.addr.hostname}:${listener.addr.port}`,
      version: version.id,
    });
    return listener;
  }

  /**
   * Makes what `version` was built with the state the next version starts from: its head
   * ring, its route policies and listener limits (a version that is refused leaves them).
   */
  #commit(version: ConfigVersion): void {
    this.#heads = this.#headsOf.get(version);
    const built = this.#pendingPolicies.get(this.#policiesOf.get(version) ?? {});
    if (built) {
      this.#policies = built.policyKeys;
      this.#listenerLimits = built.limitKeys;
    }
  }

  /** Builds a version of `config`, carrying over the unchanged clusters of `prev`. */
  #build(config: Config, prev: ConfigVersion | undefined): ConfigVersion {
    const d = this.#deps;
    const clusters = new Map<string, ClusterRuntime>();
    try {
      for (const c of config.clusters) {
        this.#budget(c).setLimits(c.limits.max_connections, c.limits.max_pending_requests);
        const old = prev?.clusters.get(c.name);
        const runtime = old && JSON.stringify(old.config) === JSON.stringify(c)
          ? old
          : new ClusterRuntime(c, d.resolver?.(c) ?? new StaticResolver(staticEndpoints(c)), {
            rng: d.rng,
            clock: d.clock,
            pools: this.#pools.factory,
            counters: this.stats.clusterCounters(c.name),
            breaker: old && sameJson(old.config.circuit_breaker, c.circuit_breaker)
              ? old.breaker
              : undefined,
            onBreakerTransition: c.circuit_breaker && this.#metrics.breaker("cluster", c.name),
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
      this.#unuse(clusters.values());
      throw err;
    }
    const core = new HttpProxy({
      clusters,
      clock: d.clock,
      wheel: this.#wheel,
      rng: d.rng,
      log: d.log,
    });
    const policies = new Map<RouteConfig, RoutePolicy>();
    const policyKeys = new Map<string, RoutePolicy>();
    const limits = new Map<string, TokenBucket>();
    const limitKeys = new Map<string, TokenBucket>();
    for (const l of config.listeners) {
      l.routes.forEach((r, i) => {
        if (!hasPolicy(r)) return;
        // Same listener, same route: the same breaker and bucket, so a reload keeps their state.
        const key = JSON.stringify([l.name, i, r]);
        const p = this.#policies.get(key) ?? routePolicy(r, i, {
          clock: d.clock,
          rng: d.rng,
          onTransition: r.circuit_breaker &&
            this.#metrics.breaker("route", `${l.name}/${r.name ?? `route_${i}`}`),
        });
        policyKeys.set(key, p);
        policies.set(r, p);
      });
      if (l.rate_limit) {
        const key = JSON.stringify([l.name, l.rate_limit]);
        const bucket = this.#listenerLimits.get(key) ??
          new TokenBucket(l.rate_limit, () => d.clock.monotonic());
        limitKeys.set(key, bucket);
        limits.set(l.name, bucket);
      }
    }
    this.#pendingPolicies.set(policies, { policyKeys, limitKeys });
    const proxy: Forwarder = policies.size === 0 ? core : new PolicyForwarder(core, policies, {
      clock: d.clock,
      wheel: this.#wheel,
      events: this.#metrics.events,
    });
    // The ring changes only with the version that asks for it (see `#commitHeads`).
    const r = config.reload;
    const heads = !r.shadow
      ? undefined
      : this.#heads?.capacity === r.shadow_requests
      ? this.#heads
      : new HeadRing(r.shadow_requests);
    const listeners = new Map<string, ListenerVersion>();
    for (const l of config.listeners) {
      const routes = new Map(
        l.routes.flatMap((r) => r.authz ? [[r, new AuthzPolicy(r.authz.rules)] as const] : []),
      );
      const denied = this.#denied(l.name);
      const authz = l.authz || routes.size > 0
        ? {
          policy: l.authz && new AuthzPolicy(l.authz.rules),
          routes,
          onDenied: () => denied.inc(),
        }
        : undefined;
      const router = new Router(l.routes);
      const handler = new RouteHandler(router, proxy, this.stats, d.log, authz, heads);
      listeners.set(l.name, { config: l, handler, authz, rateLimit: limits.get(l.name) });
    }
    this.#liveVersions++;
    // The data plane holds the version while it is the current one.
    const version = new ConfigVersion(
      this.#nextId++,
      config,
      clusters,
      listeners,
      (v) => this.#dispose(v),
    ).retain();
    this.#headsOf.set(version, heads);
    this.#policiesOf.set(version, policies);
    return version;
  }

  /** A version nobody holds: closes the clusters no other live version uses. */
  #dispose(v: ConfigVersion): void {
    this.#liveVersions--;
    this.#unuse(v.clusters.values());
  }

  /** One version less uses each of `runtimes`; those no version uses any more close. */
  #unuse(runtimes: Iterable<ClusterRuntime>): void {
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

  /** The connection budget of cluster `c` (by name: shared by its versions and pools). */
  #budget(c: ClusterConfig): ConnectionBudget {
    let b = this.#budgets.get(c.name);
    if (!b) {
      b = new ConnectionBudget(c.limits.max_connections, c.limits.max_pending_requests);
      this.#budgets.set(c.name, b);
    }
    return b;
  }

  /** Builds the pool of one endpoint (shared across versions by `SharedPools`). */
  readonly #createPool: PoolFactory = (ep, c) => {
    const d = this.#deps;
    const now = () => d.clock.monotonic();
    const budget = this.#budget(c);
    if (c.tls.mode === "mtls") {
      const mesh = this.#identity.mesh;
      if (!mesh) throw new Error(`cluster "${c.name}" uses mtls but no identity is loaded`);
      return new H2Pool(ep.address, poolLimits(c), {
        wheel: this.#wheel,
        now,
        log: d.log,
        dial: (_addr, timeoutMs) => mesh.dial(ep, c, timeoutMs),
        budget,
      });
    }
    return c.protocol === "http2"
      ? new H2Pool(ep.address, poolLimits(c), { wheel: this.#wheel, now, log: d.log, budget })
      : new H1Pool(ep.address, poolLimits(c), { wheel: this.#wheel, now, budget });
  };
}

function lOf(config: Config, name: string): ListenerConfig {
  return config.listeners.find((l) => l.name === name)!;
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
