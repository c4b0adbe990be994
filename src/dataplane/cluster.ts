import type { ClusterConfig } from "../config/schema.ts";
import type { Cancel } from "../core/cancel.ts";
import type { Clock } from "../core/clock.ts";
import type { Logger } from "../core/logger.ts";
import type { Rng } from "../core/rng.ts";
import type { Counter } from "../telemetry/counter.ts";
import type { Endpoint } from "../discovery/endpoint.ts";
import type { EndpointSet, Resolver } from "../discovery/resolver.ts";
import { Host } from "./balance/host.ts";
import type { LoadBalancer } from "./balance/load_balancer.ts";
import { createLoadBalancer, type EndpointSubset } from "./balance/mod.ts";
import type { ExchangeTiming } from "./pool/h1_connection.ts";
import type { ProxyRequest, ProxyResponse } from "./http/message.ts";
import { retryAllowed } from "./resilience/retry_budget.ts";
import { type BreakerState, CircuitBreaker } from "./resilience/circuit_breaker.ts";
import {
  type AttemptOutcome,
  EndpointHealth,
  type EndpointHealthCounters,
} from "./health/endpoint_health.ts";
import type { Probe } from "./health/probe.ts";

/** A connection pool to one endpoint, whatever its protocol. */
export interface UpstreamPool {
  /** Sends a request and resolves with the response head; see `H1Pool.request`. */
  request(req: ProxyRequest, timing: ExchangeTiming, cancel: Cancel): Promise<ProxyResponse>;
  /** Open connections. */
  readonly open: number;
  /** Idle connections. */
  readonly idle: number;
  /** Requests waiting for a connection. */
  readonly pending: number;
  /** Closes idle connections; busy ones close when their exchange ends. */
  close(): void;
}

/** Builds the pool for one endpoint of a cluster. */
export type PoolFactory = (endpoint: Endpoint, cluster: ClusterConfig) => UpstreamPool;

/**
 * The metric counters of one cluster (children of registry families, labelled with the
 * cluster's name), updated as things happen and read by `/clusters` and `/metrics`.
 */
export interface ClusterCounters extends EndpointHealthCounters {
  /** Retries sent upstream (`skiff_retries_total`). */
  readonly retries: Counter;
  /** Retries refused for an empty retry budget (`skiff_retry_budget_exhausted_total`). */
  readonly retryBudgetExhausted: Counter;
}

/** What a `ClusterRuntime` needs besides its config and resolver. */
export interface ClusterDeps {
  rng: Rng;
  clock: Clock;
  /** Builds the pool of each endpoint. */
  pools: PoolFactory;
  /** The cluster's counters (see `DataplaneStats.clusterCounters`). */
  counters: ClusterCounters;
  /** Told of the circuit breaker's state changes (when the cluster has one). */
  onBreakerTransition?: (from: BreakerState, to: BreakerState, why: string) => void;
  /**
   * The breaker to use instead of a new one: the same cluster's in the previous config
   * version, when its `circuit_breaker` settings did not change (an open circuit stays open).
   */
  breaker?: CircuitBreaker;
  /** Where ejections and health changes are logged. */
  log?: Logger;
  /** Replaces the health check probe the config asks for (tests). */
  probe?: Probe;
}

/**
 * The live state of one upstream cluster: its hosts (from a `Resolver`), load balancer,
 * per-endpoint pools, in-flight counts and retry budget, and — when configured — outlier
 * detection and health checks, which keep the load balancer to the endpoints neither
 * ejected nor unhealthy (all of them when that leaves none; see `EndpointHealth`).
 *
 * Routes may send to a label subset of the endpoints (`weighted_clusters[].subset`): each
 * subset in use gets a load balancer of its own, built on its first pick and fed by the same
 * path as the cluster's (discovery updates, ejections, health changes). A subset balances
 * over its usable endpoints, or all of its endpoints when none is usable (panic, per subset).
 */
export class ClusterRuntime {
  readonly name: string;
  readonly config: ClusterConfig;
  /** Requests in flight (including retries). */
  active = 0;
  /** Retries in flight. */
  activeRetries = 0;
  /** Requests sent upstream (including retries). */
  requests = 0;
  /** Retries made and refused, also exposed on `/metrics`. */
  readonly counters: ClusterCounters;
  readonly #resolver: Resolver;
  readonly #lb: LoadBalancer;
  /** The balancers of the subsets picked from so far, by `EndpointSubset.key`. */
  readonly #subsets = new Map<string, { subset: EndpointSubset; lb: LoadBalancer }>();
  readonly #rng: Rng;
  readonly #pools: PoolFactory;
  readonly #now: () => number;
  #hosts = new Map<string, Host>();
  /** The hosts the cluster's balancer was last given (see `#balance`). */
  #usable: Host[] = [];
  #poolsByKey = new Map<string, UpstreamPool>();
  readonly #unwatch: () => void;
  /** The cluster's circuit breaker (`circuit_breaker`), shared by all its requests. */
  readonly breaker: CircuitBreaker | undefined;
  /** Outlier detection and health checks (`outlier_detection`, `health_check`), if any. */
  readonly health: EndpointHealth | undefined;

  constructor(config: ClusterConfig, resolver: Resolver, deps: ClusterDeps) {
    this.name = config.name;
    this.config = config;
    this.counters = deps.counters;
    this.#resolver = resolver;
    this.#pools = deps.pools;
    this.#now = () => deps.clock.monotonic();
    this.#rng = deps.rng;
    this.#lb = createLoadBalancer(config.lb_policy, { rng: deps.rng });
    const cb = config.circuit_breaker;
    this.breaker = cb &&
      (deps.breaker ??
        new CircuitBreaker(cb, { now: this.#now, onTransition: deps.onBreakerTransition }));
    this.health = config.outlier_detection || config.health_check
      ? new EndpointHealth(config, {
        clock: deps.clock,
        rng: deps.rng,
        counters: deps.counters,
        log: deps.log,
        probe: deps.probe,
        onChange: () => this.#balance(),
      })
      : undefined;
    this.#apply(resolver.current());
    this.#unwatch = resolver.watch((set) => this.#apply(set));
  }

  /** The current hosts, in resolver order. */
  get hosts(): Host[] {
    return [...this.#hosts.values()];
  }

  /**
   * Picks a host for a request, among those neither ejected nor unhealthy.
   *
   * @param hashKey what a ring_hash cluster hashes
   * @param avoid hosts this request already tried
   * @param subset when given, only endpoints whose labels include the subset's are picked
   * @returns the host, or `undefined` when the cluster (or subset) has no endpoint
   */
  pick(hashKey?: string, avoid?: ReadonlySet<Host>, subset?: EndpointSubset): Host | undefined {
    if (subset === undefined) return this.#lb.pick(hashKey, avoid);
    let s = this.#subsets.get(subset.key);
    if (s === undefined) {
      s = { subset, lb: createLoadBalancer(this.config.lb_policy, { rng: this.#rng }) };
      this.#subsets.set(subset.key, s);
      s.lb.update(this.#subsetHosts(subset));
    }
    return s.lb.pick(hashKey, avoid);
  }

  /** The pool of a host (created on first use). */
  pool(host: Host): UpstreamPool {
    let p = this.#poolsByKey.get(host.key);
    if (!p) {
      p = this.#pools(host.endpoint, this.config);
      this.#poolsByKey.set(host.key, p);
    }
    return p;
  }

  /** The pool of a host if one exists (for reporting). */
  existingPool(host: Host): UpstreamPool | undefined {
    return this.#poolsByKey.get(host.key);
  }

  /**
   * Takes the pools `from` (the same cluster in an older config version) has open to the
   * endpoints this one also has, so that they outlive `from` (pools are shared, see
   * `SharedPools`).
   */
  adoptPools(from: ClusterRuntime): void {
    for (const h of this.#hosts.values()) {
      if (from.#poolsByKey.has(h.key)) this.pool(h);
    }
  }

  /**
   * Counts what an attempt to `host` came to for outlier detection: the response (its status),
   * the `UpstreamError`, or `"connected"` for a TCP connection that opened.
   */
  observe(host: Host, outcome: AttemptOutcome): void {
    this.health?.observe(host.key, outcome);
  }

  /**
   * Takes over the ejections and health statuses `from` (the same cluster in an older config
   * version) has of the endpoints this one also has, so that a changed cluster does not send
   * traffic to an endpoint known to be bad until it is checked again.
   */
  adoptHealth(from: ClusterRuntime): void {
    if (this.health && from.health) {
      this.health.adopt(from.health);
      this.#balance();
    }
  }

  /**
   * Why a new request may not go to this cluster now: `circuit_open` (its breaker refuses; an
   * admitted request must then report its outcome to `breaker`), `overflow` (`limits.max_requests`
   * in flight), or null when it may.
   */
  admit(): "circuit_open" | "overflow" | null {
    if (this.active >= this.config.limits.max_requests) return "overflow";
    if (this.breaker !== undefined && !this.breaker.tryAcquire()) return "circuit_open";
    return null;
  }

  /** True when the retry budget and `limits.max_retries` allow one more retry now (counts a refusal). */
  retryBudgetAllows(): boolean {
    const max = this.config.limits.max_retries;
    if (max !== undefined && this.activeRetries >= max) {
      this.counters.retryBudgetExhausted.inc();
      return false;
    }
    const b = this.config.retry_budget;
    if (retryAllowed(this.active, this.activeRetries, b.budget_percent, b.min_retry_concurrency)) {
      return true;
    }
    this.counters.retryBudgetExhausted.inc();
    return false;
  }

  /** Stops watching the resolver and the health checks, and closes every pool. */
  close(): void {
    this.#unwatch();
    this.health?.close();
    for (const p of this.#poolsByKey.values()) p.close();
    this.#poolsByKey.clear();
  }

  #apply(set: EndpointSet): void {
    const next = new Map<string, Host>();
    for (const ep of set.endpoints) {
      const old = this.#hosts.get(ep.key);
      if (old) old.setEndpoint(ep);
      next.set(ep.key, old ?? new Host(ep, this.#now()));
    }
    for (const [key, pool] of this.#poolsByKey) {
      if (!next.has(key)) {
        pool.close();
        this.#poolsByKey.delete(key);
      }
    }
    this.#hosts = next;
    this.health?.setHosts([...next.values()]);
    this.#balance();
  }

  /** Gives the balancers (the cluster's and its subsets') the hosts that may take traffic now. */
  #balance(): void {
    const all = [...this.#hosts.values()];
    this.#usable = this.health ? this.health.usable(all) : all;
    this.#lb.update(this.#usable);
    for (const s of this.#subsets.values()) s.lb.update(this.#subsetHosts(s.subset));
  }

  /**
   * The hosts of `subset` that may take traffic now: its usable ones, or all of its hosts when
   * none of them is usable (the cluster's panic rule, applied to the subset).
   */
  #subsetHosts(subset: EndpointSubset): Host[] {
    const usable = this.#usable.filter((h) => subset.matches(h.endpoint.labels));
    if (usable.length > 0 || this.#usable.length === this.#hosts.size) return usable;
    const all: Host[] = [];
    for (const h of this.#hosts.values()) if (subset.matches(h.endpoint.labels)) all.push(h);
    return all;
  }
}
