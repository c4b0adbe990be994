import type { Config, RouteConfig } from "../config/schema.ts";
import type { Clock, Rng } from "../core/mod.ts";
import { hasPolicy, type RoutePolicy, routePolicy } from "../dataplane/http/route_policies.ts";
import { TokenBucket } from "../dataplane/resilience/token_bucket.ts";
import type { ResilienceMetrics } from "./resilience_metrics.ts";

/** What `CarriedPolicies` needs from the data plane. */
export interface CarriedPoliciesDeps {
  clock: Clock;
  rng: Rng;
  metrics: ResilienceMetrics;
}

/** The route policies and listener rate limits of one config version. */
export interface VersionPolicies {
  /** The policy of each route that has one. */
  policies: Map<RouteConfig, RoutePolicy>;
  /** The rate limit of each listener that has one, by listener name. */
  limits: Map<string, TokenBucket>;
}

/**
 * Route policies (breakers, rate limits, faults, …) and listener rate limits, kept across
 * reloads: a version built from the same listener and route gets the same breaker and bucket,
 * so their state survives. What a version was built with becomes the state the next build
 * starts from only once that version is committed (a refused version leaves it).
 */
export class CarriedPolicies {
  readonly #deps: CarriedPoliciesDeps;
  /** Policies and limits a version was built with, taken as current once it is (`commit`). */
  readonly #pendingPolicies = new WeakMap<
    object,
    { policyKeys: Map<string, RoutePolicy>; limitKeys: Map<string, TokenBucket> }
  >();
  /** Route policies and listener rate limits by what they were built from, kept across reloads. */
  #policies = new Map<string, RoutePolicy>();
  #listenerLimits = new Map<string, TokenBucket>();

  constructor(deps: CarriedPoliciesDeps) {
    this.#deps = deps;
  }

  /** The policies and limits of a version of `config`, reusing those of the committed one. */
  build(config: Config): VersionPolicies {
    const d = this.#deps;
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
            d.metrics.breaker("route", `${l.name}/${r.name ?? `route_${i}`}`),
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
    return { policies, limits };
  }

  /**
   * Makes what `build` returned as `policies` the state the next build starts from.
   *
   * @param policies the `policies` of a `build` result (undefined: nothing changes)
   */
  commit(policies: object | undefined): void {
    const built = this.#pendingPolicies.get(policies ?? {});
    if (built) {
      this.#policies = built.policyKeys;
      this.#listenerLimits = built.limitKeys;
    }
  }
}
