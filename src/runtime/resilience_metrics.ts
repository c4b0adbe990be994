import type { Logger } from "../core/mod.ts";
import type { PolicyEvents } from "../dataplane/http/route_policies.ts";
import type { BreakerState } from "../dataplane/resilience/circuit_breaker.ts";
import type { MetricsRegistry } from "../telemetry/mod.ts";

/** The metrics and log lines of breakers, rate limits, faults and fallbacks. */
export interface ResilienceMetrics {
  events: PolicyEvents;
  /** Counts a request (TCP: a connection) a listener's rate limit refused. */
  listenerLimited(listener: string): void;
  /** The transition callback of breaker `name` (`scope`: cluster or route). */
  breaker(
    scope: string,
    name: string,
  ): (from: BreakerState, to: BreakerState, why: string) => void;
}

const BREAKER_STATES: Record<BreakerState, number> = { closed: 0, open: 1, half_open: 2 };

/**
 * Registers the families of breakers, rate limits, faults and fallbacks in `registry`, and
 * returns what counts into them and logs breaker transitions.
 */
export function resilienceMetrics(registry: MetricsRegistry, log: Logger): ResilienceMetrics {
  const limited = registry.counter(
    "skiff_rate_limited",
    "Requests (TCP: connections) refused by a local rate limit, by listener and route.",
    ["listener", "route"],
  );
  const faults = registry.counter(
    "skiff_faults_injected",
    "Faults injected by routes, by listener, route and kind (delay, abort).",
    ["listener", "route", "kind"],
  );
  const fallbacks = registry.counter(
    "skiff_fallbacks",
    "Failures answered by a route's fallback, by listener, route and failure reason.",
    ["listener", "route", "reason"],
  );
  const state = registry.gauge(
    "skiff_circuit_breaker_state",
    "Circuit breaker state: 0 closed, 1 open, 2 half-open; by scope (cluster, route) and name.",
    ["scope", "name"],
  );
  const transitions = registry.counter(
    "skiff_circuit_breaker_transitions",
    "Circuit breaker state changes, by scope, name and the state entered.",
    ["scope", "name", "to"],
  );
  return {
    events: {
      rateLimited: (ex) => limited.labels(ex.listener, ex.route).inc(),
      faultInjected: (ex, kind) => faults.labels(ex.listener, ex.route, kind).inc(),
      fallback: (ex, reason) => fallbacks.labels(ex.listener, ex.route, reason).inc(),
    },
    listenerLimited: (listener) => limited.labels(listener, "").inc(),
    breaker: (scope, name) => {
      state.labels(scope, name).set(0);
      return (from, to, why) => {
        state.labels(scope, name).set(BREAKER_STATES[to]);
        transitions.labels(scope, name, to).inc();
        log[to === "open" ? "warn" : "info"]("circuit breaker " + to.replace("_", "-"), {
          scope,
          name,
          from,
          why,
        });
      };
    },
  };
}
