import type { RouteConfig } from "../../config/schema.ts";
import type { Clock } from "../../core/clock.ts";
import type { TimerWheel } from "../../core/timer_wheel.ts";
import type { Exchange } from "../exchange.ts";
import {
  CircuitBreaker,
  type CircuitBreakerDeps,
  Fallback,
  FaultInjector,
  TokenBucket,
} from "../resilience/mod.ts";
import type { Rng } from "../../core/rng.ts";
import { grpcStatusForFailure, isGrpc } from "./grpc.ts";
import { localReply } from "./local_reply.ts";
import { getHeader, type ProxyRequest, type ProxyResponse, removeHeader } from "./message.ts";
import { callSucceeded, downstreamFailed } from "./proxy.ts";
import { CompiledRoute } from "./router.ts";

/** Whatever sends a routed request on: the proxy core, or the route policies in front of it. */
export interface Forwarder {
  /** Forwards `req` along `route`; never throws (failures are local replies). */
  forward(req: ProxyRequest, route: CompiledRoute, ex: Exchange): Promise<ProxyResponse>;
}

/** The traffic policies of one route, built once per route and kept across reloads. */
export interface RoutePolicy {
  readonly rateLimit?: TokenBucket;
  readonly fault?: FaultInjector;
  readonly breaker?: CircuitBreaker;
  readonly fallback?: Fallback;
  /** The route to the fallback cluster, when the fallback is a cluster. */
  readonly fallbackRoute?: CompiledRoute;
}

/** What the route policies report as they act. */
export interface PolicyEvents {
  /** A request was refused by the route's rate limit (429). */
  rateLimited(ex: Exchange): void;
  /** A fault was injected into a request. */
  faultInjected(ex: Exchange, kind: "delay" | "abort"): void;
  /** A failure was answered by the route's fallback. */
  fallback(ex: Exchange, reason: string): void;
}

/** True when a route has any policy this module applies. */
export function hasPolicy(r: RouteConfig): boolean {
  return r.rate_limit !== undefined || r.fault !== undefined ||
    r.circuit_breaker !== undefined || r.fallback !== undefined;
}

/**
 * Builds the policies of route `r`.
 *
 * @param onTransition told of the route breaker's state changes
 */
export function routePolicy(
  r: RouteConfig,
  index: number,
  deps: { clock: Clock; rng: Rng; onTransition?: CircuitBreakerDeps["onTransition"] },
): RoutePolicy {
  const now = () => deps.clock.monotonic();
  const fb = r.fallback;
  return {
    rateLimit: r.rate_limit && new TokenBucket(r.rate_limit, now),
    fault: r.fault && new FaultInjector(r.fault, deps.rng),
    breaker: r.circuit_breaker &&
      new CircuitBreaker(r.circuit_breaker, { now, onTransition: deps.onTransition }),
    fallback: fb && new Fallback(fb),
    // The fallback cluster gets the request as the route would send it, without retries.
    fallbackRoute: fb?.cluster === undefined ? undefined : new CompiledRoute(
      { ...r, cluster: fb.cluster, weighted_clusters: undefined, retry: undefined },
      index,
    ),
  };
}

/**
 * Applies routes' traffic policies in front of the proxy core, in Envoy's filter order: the
 * local rate limit (429 `rate_limited` with `retry-after`), fault injection (a delay, then
 * possibly an abort), the route's circuit breaker (503 `circuit_open`), then forwarding; a
 * failure the route's fallback covers (`circuit_open`, `no_healthy_upstream`,
 * `upstream_timeout`) is answered by the fallback's static response or sent to its cluster.
 * Routes without policies go straight to the proxy core.
 */
export class PolicyForwarder implements Forwarder {
  readonly #inner: Forwarder;
  readonly #policies: ReadonlyMap<RouteConfig, RoutePolicy>;
  readonly #clock: Clock;
  readonly #wheel: TimerWheel;
  readonly #events: PolicyEvents;

  constructor(
    inner: Forwarder,
    policies: ReadonlyMap<RouteConfig, RoutePolicy>,
    deps: { clock: Clock; wheel: TimerWheel; events: PolicyEvents },
  ) {
    this.#inner = inner;
    this.#policies = policies;
    this.#clock = deps.clock;
    this.#wheel = deps.wheel;
    this.#events = deps.events;
  }

  forward(req: ProxyRequest, route: CompiledRoute, ex: Exchange): Promise<ProxyResponse> {
    const p = this.#policies.get(route.config);
    return p === undefined ? this.#inner.forward(req, route, ex) : this.#guarded(req, route, ex, p);
  }

  async #guarded(
    req: ProxyRequest,
    route: CompiledRoute,
    ex: Exchange,
    p: RoutePolicy,
  ): Promise<ProxyResponse> {
    const grpc = isGrpc(getHeader(req.headers, "content-type"));
    if (p.rateLimit) {
      const waitMs = p.rateLimit.take();
      if (waitMs > 0) {
        this.#events.rateLimited(ex);
        return rateLimitedReply(ex, `Route "${route.name}"`, waitMs, grpc);
      }
    }
    if (p.fault) {
      const d = p.fault.decide(req.headers, grpc);
      if (d !== null) {
        const abort = d.abort; // the decision object is reused by the next request
        if (d.delayMs > 0) {
          this.#events.faultInjected(ex, "delay");
          await this.#sleep(d.delayMs);
          // The delay is the fault's, not the upstream's: deadlines start after it (as Envoy).
          ex.forwardStart = this.#clock.monotonic();
        }
        if (abort !== null) {
          this.#events.faultInjected(ex, "abort");
          return faultAbort(ex, route, abort.status, abort.grpcStatus);
        }
      }
    }
    // The fallback cluster gets the request as it arrived: the proxy core rewrites it.
    const original = p.fallbackRoute && req.body === null
      ? { path: req.path, headers: req.headers.slice() }
      : undefined;
    let res: ProxyResponse;
    if (p.breaker && !p.breaker.tryAcquire()) {
      ex.cluster = route.clusters.join(",");
      if (grpc) ex.grpcStatus = String(grpcStatusForFailure("circuit_open"));
      res = localReply("circuit_open", `The circuit of route "${route.name}" is open`, grpc);
      ex.error = "circuit_open";
    } else if (p.breaker) {
      const started = this.#clock.monotonic();
      const clientBody = req.body; // the proxy core may swap it for a replay
      try {
        res = await this.#inner.forward(req, route, ex);
      } catch (err) {
        p.breaker.release();
        throw err;
      }
      if (downstreamFailed(clientBody)) p.breaker.release(); // the client's fault, not the route's
      else p.breaker.onResult(callSucceeded(res, grpc), this.#clock.monotonic() - started);
    } else {
      res = await this.#inner.forward(req, route, ex);
    }
    const reason = res.error;
    if (reason === undefined || !p.fallback?.applies(reason)) return res;
    if (p.fallbackRoute) {
      if (!original) return res; // a request body cannot be sent a second time
      this.#events.fallback(ex, reason);
      req.path = original.path;
      req.headers = original.headers;
      ex.error = "";
      ex.forwardStart = this.#clock.monotonic(); // the fallback gets the whole route timeout
      return await this.#inner.forward(req, p.fallbackRoute, ex);
    }
    this.#events.fallback(ex, reason);
    return p.fallback.response(grpc, reason);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#wheel.schedule(ms, resolve));
  }
}

/**
 * 429 `rate_limited` (gRPC: RESOURCE_EXHAUSTED) with `retry-after` in whole seconds.
 *
 * @param subject what is over its limit, for the message (`Route "api"`, `Listener "web"`)
 */
export function rateLimitedReply(
  ex: Exchange,
  subject: string,
  waitMs: number,
  grpc: boolean,
): ProxyResponse {
  ex.error = "rate_limited";
  if (grpc) ex.grpcStatus = String(grpcStatusForFailure("rate_limited"));
  const res = localReply("rate_limited", `${subject} is over its rate limit`, grpc);
  res.headers.push("retry-after", String(Math.max(1, Math.ceil(waitMs / 1000))));
  return res;
}

/** The reply of an injected abort: the configured status, or gRPC status. */
function faultAbort(
  ex: Exchange,
  route: CompiledRoute,
  status: number,
  grpcStatus: number | undefined,
): ProxyResponse {
  ex.error = "fault_abort";
  const message = `Fault injected by route "${route.name}"`;
  if (grpcStatus !== undefined) {
    ex.grpcStatus = String(grpcStatus);
    const res = localReply("fault_abort", message, true);
    removeHeader(res.headers, "grpc-status");
    res.headers.push("grpc-status", String(grpcStatus));
    return res;
  }
  const res = localReply("fault_abort", message, false);
  res.status = status;
  return res;
}
