import type { Config } from "../config/schema.ts";
import { AuthzPolicy } from "../security/authz.ts";
import type { TimerWheel } from "../core/mod.ts";
import { ConfigVersion, type ListenerVersion } from "../dataplane/config_version.ts";
import { HeadRing } from "../dataplane/http/head_ring.ts";
import { HttpProxy } from "../dataplane/http/proxy.ts";
import { type Forwarder, PolicyForwarder } from "../dataplane/http/route_policies.ts";
import { RouteHandler } from "../dataplane/http/route_handler.ts";
import { Router } from "../dataplane/http/router.ts";
import type { Counter } from "../telemetry/counter.ts";
import { ClusterRuntimes, type ClusterRuntimesDeps } from "./_cluster_runtimes.ts";
import { CarriedPolicies } from "./_carried_policies.ts";

/** What `VersionBuilder` needs from the data plane (its clusters' and policies' needs, and more). */
export interface VersionBuilderDeps extends ClusterRuntimesDeps {
  wheel: TimerWheel;
  /** The counter of requests (TCP: connections) authorization denied on a listener. */
  denied: (listener: string) => Counter;
}

/**
 * Builds the config versions (`ConfigVersion`) of a data plane: the clusters, proxy, route
 * policies, authorization and request handler of every listener of a config. What can carry
 * over from the previous version does — unchanged clusters, route breakers and rate limits,
 * the ring of recent request heads — and what a version was built with becomes the state the
 * next one starts from once it is committed. A version nobody holds any more closes the
 * clusters no other live version uses.
 */
export class VersionBuilder {
  readonly #deps: VersionBuilderDeps;
  readonly #clusters: ClusterRuntimes;
  readonly #carried: CarriedPolicies;
  #nextId = 1;
  #liveVersions = 0;
  /** Recent request heads, while the current version has `reload.shadow` on. */
  #heads: HeadRing | undefined;
  readonly #policiesOf = new WeakMap<ConfigVersion, object>();
  /** The head ring each version records into (the current one's becomes `#heads`). */
  readonly #headsOf = new WeakMap<ConfigVersion, HeadRing | undefined>();

  constructor(deps: VersionBuilderDeps) {
    this.#deps = deps;
    this.#clusters = new ClusterRuntimes(deps);
    this.#carried = new CarriedPolicies(deps);
  }

  /** Config versions still held (the current one plus older ones requests still use). */
  get live(): number {
    return this.#liveVersions;
  }

  /** Recent request heads, while the committed version has `reload.shadow` on. */
  get heads(): HeadRing | undefined {
    return this.#heads;
  }

  /**
   * Makes what `version` was built with the state the next version starts from: its head
   * ring, its route policies and listener limits (a version that is refused leaves them).
   */
  commit(version: ConfigVersion): void {
    this.#heads = this.#headsOf.get(version);
    this.#carried.commit(this.#policiesOf.get(version));
  }

  /**
   * Builds a version of `config`, carrying over the unchanged clusters of `prev`. The version
   * comes with one hold, the data plane's while it is the current one.
   *
   * @throws when a cluster cannot be built (nothing is kept of it)
   */
  build(config: Config, prev: ConfigVersion | undefined): ConfigVersion {
    const d = this.#deps;
    const clusters = this.#clusters.build(config, prev);
    const core = new HttpProxy({
      clusters,
      clock: d.clock,
      wheel: d.wheel,
      rng: d.rng,
      log: d.log,
    });
    const { policies, limits } = this.#carried.build(config);
    const proxy: Forwarder = policies.size === 0 ? core : new PolicyForwarder(core, policies, {
      clock: d.clock,
      wheel: d.wheel,
      events: d.metrics.events,
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
      const denied = d.denied(l.name);
      const authz = l.authz || routes.size > 0
        ? {
          policy: l.authz && new AuthzPolicy(l.authz.rules),
          routes,
          onDenied: () => denied.inc(),
        }
        : undefined;
      const router = new Router(l.routes);
      const handler = new RouteHandler(router, proxy, d.stats, d.log, authz, heads);
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
    this.#clusters.unuse(v.clusters.values());
  }
}
