import type { ClusterConfig, Config, ListenerConfig } from "../config/schema.ts";
import type { ConnectionGate, SecureAcceptor } from "../dataplane/mesh/secure_acceptor.ts";
import { type Clock, type Logger, type Rng, TimerWheel } from "../core/mod.ts";
import type { Resolver } from "../discovery/mod.ts";
import type { MeshDialer } from "../dataplane/mesh/mesh_dialer.ts";
import type { ClusterRuntime } from "../dataplane/cluster.ts";
import { type ClusterView, clusterView } from "../dataplane/cluster_view.ts";
import type { ConfigVersion } from "../dataplane/config_version.ts";
import { shadowCheck, type ShadowReport, shadowSummary } from "../dataplane/shadow_check.ts";
import { Listener, type ListenFn } from "../dataplane/listener.ts";
import { SharedPools } from "../dataplane/pool/shared_pools.ts";
import { clusterChanges } from "../config/diff.ts";
import { formatAddress } from "../config/mod.ts";
import { type ResilienceMetrics, resilienceMetrics } from "./resilience_metrics.ts";
import { DataplaneStats } from "../dataplane/stats.ts";
import type { AccessLogSink, MetricsRegistry } from "../telemetry/mod.ts";
import type { ReloadOutcome } from "../control/lifecycle.ts";
import { EndpointPools } from "./_endpoint_pools.ts";
import { planListeners } from "./_listener_plan.ts";
import { VersionBuilder } from "./_version_builder.ts";

/** What a data plane needs from whoever runs it (the sidecar or a data-plane Worker). */
export interface DataPlaneDeps {
  clock: Clock;
  rng: Rng;
  log: Logger;
  registry: MetricsRegistry;
  accessLog: AccessLogSink;
  /** Bind listeners with SO_REUSEPORT (several Workers on one port, or a hot restart). */
  reusePort?: boolean;
  /** Binds listening sockets; `Deno.listen` when absent (tests inject bind failures). */
  listen?: ListenFn;
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
  /** Builds the versions, carrying over what a reload leaves unchanged. */
  readonly #versions: VersionBuilder;
  /** Listeners removed or rebound by a reload, still finishing their connections. */
  readonly #draining = new Set<Listener>();
  #identity: DataPlaneIdentity = {};
  /** The config to start with, until `start` builds its version. */
  readonly #initial: Config;
  #current: ConfigVersion | undefined;
  #drainRun: Promise<void> | undefined;
  /** The last shadow check's report (`/config/diff`). */
  #shadow: ShadowReport | undefined;
  #stopped = false;
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
    deps.registry.gaugeFn(
      "skiff_config_versions_live",
      "Config versions still held (the current one plus older ones requests still use).",
      () => this.#versions.live,
    );
    const endpoints = new EndpointPools({
      clock: deps.clock,
      log: deps.log,
      wheel: this.#wheel,
      mesh: () => this.#identity.mesh,
    });
    this.#pools = new SharedPools(endpoints.create);
    this.#initial = config;
    this.#metrics = resilienceMetrics(deps.registry, deps.log);
    this.#versions = new VersionBuilder({
      clock: deps.clock,
      rng: deps.rng,
      log: deps.log,
      resolver: deps.resolver,
      wheel: this.#wheel,
      stats: this.stats,
      metrics: this.#metrics,
      denied: (l) => denied.labels(l),
      pools: this.#pools.factory,
      budget: (c) => endpoints.budget(c),
    });
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
    const first = this.#current = this.#versions.build(this.#initial, undefined);
    this.#versions.commit(first);
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
   *   identity that is not loaded); the current version then stays, untouched. The exception
   *   is a listener bound only once an outgoing one closed its socket (same address, no
   *   SO_REUSEPORT): the version is committed by then, and a failure there is reported in
   *   `listeners.failed` instead
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
    if (prev.config.reload.shadow && this.#versions.heads && opts.shadow !== false) {
      shadow = this.#shadow = shadowCheck(
        this.#versions.heads.heads(),
        prev.config,
        config,
        prev.config.reload.guards,
      );
      this.#deps.log[shadow.ok ? "info" : "warn"](shadowSummary(shadow));
      if (!shadow.ok) throw new ShadowRefusedError(shadow);
    }
    const next = this.#versions.build(config, prev);
    const changes = clusterChanges(prev.config, config);
    // Which listeners keep their sockets, which are bound anew (now, or once an outgoing
    // listener let go of their address) and which drain.
    const { changes: lc, kept, leaving, now, later } = planListeners(
      this.listeners,
      config,
      this.#deps.reusePort,
    );
    // New sockets first, so that a port that cannot be bound leaves everything as it was.
    const bound: Listener[] = [];
    try {
      for (const n of now) bound.push(await this.#bind(next, n));
    } catch (err) {
      await Promise.all(bound.map((l) => l.close(true)));
      next.release(); // closes the clusters only it had
      throw err;
    }
    for (const l of kept) l.update(next);
    const unbound = leaving.map((l) => this.#retire(l));
    // `later` listeners take addresses of leaving ones: bindable once those sockets closed.
    // The new version is committed by then, so one whose address was taken in the meantime
    // is reported (`failed`) rather than undoing the reload.
    if (later.length > 0) await Promise.all(unbound);
    const failed: string[] = [];
    for (const n of later) {
      try {
        bound.push(await this.#bind(next, n));
      } catch (err) {
        failed.push(n);
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
    this.#versions.commit(next);
    prev.release();
    return {
      listeners: { ...lc, kept: kept.map((l) => l.name), failed },
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

  /**
   * Drains a listener a reload removed or rebound, then closes it (at `drain.timeout`).
   * Resolves once its socket is closed (its address free), not when it has drained.
   */
  #retire(l: Listener): Promise<void> {
    this.#draining.add(l);
    const timeoutMs = this.config.drain.timeout;
    const timer = this.#deps.clock.setTimer(() => void l.close(true), timeoutMs);
    l.drain().then(async () => {
      timer.cancel();
      await l.close(true);
      this.#draining.delete(l);
      this.#deps.log.info("listener drained", { listener: l.name });
    });
    return l.unbound();
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
      listen: d.listen,
      secure: this.#identity.secure,
      mesh: this.#identity.mesh,
    });
    try {
      await listener.start();
    } catch (err) {
      await listener.close(true);
      throw bindError(err, version.config, name);
    }
    const l = listener.config;
    d.log.info("listener bound", {
      listener: name,
      protocol: l.protocol,
      address: formatAddress(listener.addr), // [v6]:port
      version: version.id,
    });
    return listener;
  }
}

/**
 * The error of binding listener `name` of `config`: as it was, or, when its address is in
 * use, one of the same class that names the listener, its address and what to do.
 */
function bindError(err: unknown, config: Config, name: string): unknown {
  if (!(err instanceof Deno.errors.AddrInUse)) return err;
  const i = config.listeners.findIndex((l) => l.name === name);
  const address = formatAddress(config.listeners[i].address);
  return new Deno.errors.AddrInUse(
    `listener "${name}" cannot bind ${address}: the address is already in use — another ` +
      `program listens on ${address}: stop it, or choose another address in ` +
      `listeners[${i}].address`,
    { cause: err },
  );
}
