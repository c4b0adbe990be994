import type { Clock, Timer } from "../../core/clock.ts";
import type { Cancel } from "../../core/cancel.ts";
import type { Logger } from "../../core/logger.ts";
import type { Rng } from "../../core/rng.ts";
import type { TimerWheel } from "../../core/timer_wheel.ts";
import type { Host } from "../balance/host.ts";
import type { ClusterRuntime } from "../cluster.ts";
import type { Exchange } from "../exchange.ts";
import { backoffDelay } from "../resilience/backoff.ts";
import { retriableFailure, retriableStatus } from "../resilience/retry_policy.ts";
import { type FailureReason, UpstreamError } from "../upstream_error.ts";
import type { Body, BufferedBody } from "./body.ts";
import { DeadlineBody } from "./deadline_body.ts";
import { isGrpc, parseGrpcTimeout } from "./grpc.ts";
import { localReply } from "./local_reply.ts";
import type { ReplayBody } from "./replay_body.ts";
import { getHeader, type ProxyRequest, type ProxyResponse, removeHeader } from "./message.ts";
import type { CompiledRoute } from "./router.ts";
import { Attempt, attemptTimedOut } from "./_attempt.ts";
import { callSucceeded, downstreamFailed } from "./_call_outcome.ts";
import { prepareRequest } from "./_forwarding_headers.ts";
import { replayable, stillReplayable } from "./_retry_body.ts";

export { callSucceeded, downstreamFailed } from "./_call_outcome.ts";
export { MAX_RETRY_BODY } from "./_retry_body.ts";

/** What the proxy core needs. */
export interface ProxyDeps {
  clusters: ReadonlyMap<string, ClusterRuntime>;
  clock: Clock;
  wheel: TimerWheel;
  rng: Rng;
  log: Logger;
}

/**
 * The protocol-independent heart of HTTP proxying: applies a matched route (header
 * mutations, rewrite, forwarding headers), picks cluster and host, enforces the route
 * timeout, `grpc-timeout` and per-try timeouts, retries under policy and budget, and turns
 * every failure into a clear local reply. Never throws.
 */
export class HttpProxy {
  readonly #d: ProxyDeps;

  constructor(deps: ProxyDeps) {
    this.#d = deps;
  }

  /**
   * Forwards `req` along `route` and resolves with the response head to send downstream.
   * When the response has been sent, the caller must call `finish(ex)`.
   */
  async forward(req: ProxyRequest, route: CompiledRoute, ex: Exchange): Promise<ProxyResponse> {
    const d = this.#d;
    const cfg = route.config;
    // The body as the client sends it: a retry policy may swap `req.body` for a replay of it.
    const clientBody = req.body;
    const grpc = isGrpc(getHeader(req.headers, "content-type"));
    const branch = route.pickBranch(req.headers, d.rng);
    const clusterName = branch.cluster;
    ex.cluster = clusterName;
    const cluster = d.clusters.get(clusterName);
    if (!cluster) {
      return this.#out(
        route,
        ex,
        grpc,
        this.#fail(ex, "no_healthy_upstream", `Cluster "${clusterName}" does not exist`, grpc),
      );
    }
    const refused = cluster.admit();
    if (refused !== null) {
      return this.#out(
        route,
        ex,
        grpc,
        this.#fail(
          ex,
          refused,
          refused === "circuit_open"
            ? `The circuit of cluster "${cluster.name}" is open`
            : `Cluster "${cluster.name}" has ${cluster.active} requests in flight (limits.max_requests)`,
          grpc,
        ),
      );
    }
    prepareRequest(req, cfg, ex);
    req.path = route.rewrite(req.path);

    let timeoutMs = cfg.timeout;
    let timeoutName = "route timeout";
    if (grpc) {
      const header = getHeader(req.headers, "grpc-timeout");
      const g = header === undefined ? undefined : parseGrpcTimeout(header);
      if (g !== undefined && (timeoutMs <= 0 || g < timeoutMs)) {
        // A zero grpc-timeout is a deadline already passed, not "no deadline".
        if (g <= 0) {
          return this.#out(
            route,
            ex,
            grpc,
            this.#fail(ex, "upstream_timeout", "The grpc-timeout of 0 had already expired", grpc),
            cluster,
            undefined,
            clientBody,
          );
        }
        timeoutMs = g;
        timeoutName = "grpc-timeout";
      }
    }
    // From when the request reached the proxy core: a fault delay or a failed first try before
    // a fallback (route policies) does not use up the deadline.
    const deadline = timeoutMs > 0 ? ex.forwardStart + timeoutMs : Infinity;

    const policy = cfg.retry;
    let replay: BufferedBody | ReplayBody | null = null;
    if (policy && policy.num_retries > 0 && req.body !== null) {
      try {
        replay = await replayable(req.body);
      } catch (err) {
        cluster.breaker?.release(); // the client failed: no outcome for the breaker
        throw err;
      }
      if (replay) req.body = replay;
    }
    const canRetry = policy !== undefined && (req.body === null || replay !== null);
    const hashKey = cfg.hash_header ? getHeader(req.headers, cfg.hash_header) : undefined;
    let avoid: Set<Host> | undefined;
    let staleRetried = false;
    let last: { reason: FailureReason; message: string } | undefined;

    for (let attempt = 0;; attempt++) {
      const host = cluster.pick(hashKey, avoid, branch.subset);
      if (!host) {
        return this.#out(
          route,
          ex,
          grpc,
          this.#fail(
            ex,
            "no_healthy_upstream",
            `Cluster "${cluster.name}" has no endpoints` +
              (branch.subset ? ` labelled ${branch.subset}` : ""),
            grpc,
          ),
          cluster,
          undefined,
          clientBody,
        );
      }
      ex.upstreamHost = host.key;
      const remaining = deadline - (attempt === 0 ? ex.start : d.clock.monotonic());
      const perTry = policy?.per_try_timeout ?? Infinity;
      const tryMs = Math.min(remaining, perTry);
      const a = new Attempt(host, cluster, attempt > 0, ex, d.clock);
      const outReq = attempt === 0 || replay === null ? req : { ...req, body: replay.replay() };
      // The attempt is inline (no async frame of its own on the per-request path).
      const cancel = a.cancel;
      const timer = this.#begin(outReq, a, ex, tryMs, tryMs === perTry);
      let result: ProxyResponse | UpstreamError;
      try {
        result = await cluster.pool(host).request(outReq, ex, cancel);
      } catch (err) {
        result = this.#attemptError(err, a, cancel);
      } finally {
        timer?.cancel();
      }
      if (result instanceof UpstreamError && downstreamFailed(clientBody)) {
        // The request body failed on the client's side (malformed, or the client left) while
        // it was being sent: not the upstream's doing, so no outcome for the endpoint, outlier
        // detection or the breaker, and no retry. The server answers the client itself.
        a.abandon();
        return this.#out(
          route,
          ex,
          grpc,
          localReply("downstream_reset", "The request body failed on the client's side", grpc),
          cluster,
          undefined,
          clientBody,
        );
      }
      cluster.observe(host, result); // outlier detection
      if (!(result instanceof UpstreamError)) {
        const status = result.status;
        if (
          canRetry && attempt < policy!.num_retries && retriableStatus(policy!, status) &&
          stillReplayable(replay) && cluster.retryBudgetAllows()
        ) {
          result.body?.cancel();
          a.end(false);
          (avoid ??= new Set()).add(host);
          if (!(await this.#backoff(attempt + 1, policy!.backoff, deadline))) {
            return this.#out(route, ex, grpc, result, cluster, branch.setCookie, clientBody);
          }
          ex.retries++;
          cluster.counters.retries.inc();
          continue;
        }
        a.ok = status < 500;
        ex.onEnd = a;
        if (result.body !== null && deadline !== Infinity && result.body.inMemory !== true) {
          // The deadline covers the whole response, not only the wait for its head (a body
          // already in memory cannot overrun it).
          result.body = new DeadlineBody(result.body, deadline, d.wheel, timeoutName, timeoutMs);
        }
        return this.#out(route, ex, grpc, result, cluster, branch.setCookie, clientBody);
      }
      a.end(false);
      last = { reason: result.reason, message: result.message };
      if (
        result.staleReuse && !staleRetried && (req.body === null || replay !== null) &&
        stillReplayable(replay)
      ) {
        staleRetried = true; // the upstream closed an idle connection: not a real attempt
        attempt--;
        continue;
      }
      if (deadline - d.clock.monotonic() <= 0) break;
      if (
        !canRetry || attempt >= policy!.num_retries || !retriableFailure(policy!, result.reason) ||
        !stillReplayable(replay) || !cluster.retryBudgetAllows()
      ) break;
      (avoid ??= new Set()).add(host);
      if (!(await this.#backoff(attempt + 1, policy!.backoff, deadline))) break;
      ex.retries++;
      cluster.counters.retries.inc();
    }
    return this.#out(
      route,
      ex,
      grpc,
      this.#fail(ex, last!.reason, last!.message, grpc),
      cluster,
      undefined,
      clientBody,
    );
  }

  /**
   * Applies the route's response header mutations and notes the gRPC status; reports the
   * outcome to the circuit breaker of `admitted`, the cluster that admitted the request.
   *
   * @param setCookie the sticky cookie of the branch taken, sent with an upstream response
   *   (never with a local reply, so that a failed branch is not remembered)
   * @param clientBody the request body as the client sent it (a failed one is no outcome)
   */
  #out(
    route: CompiledRoute,
    ex: Exchange,
    grpc: boolean,
    res: ProxyResponse,
    admitted?: ClusterRuntime,
    setCookie?: string,
    clientBody?: Body | null,
  ): ProxyResponse {
    const breaker = admitted?.breaker;
    if (breaker !== undefined) {
      if (downstreamFailed(clientBody)) breaker.release(); // the client's fault, not the cluster's
      else breaker.onResult(callSucceeded(res, grpc), this.#d.clock.monotonic() - ex.forwardStart);
    }
    const cfg = route.config;
    if (cfg.response_headers_to_remove.length > 0 || cfg.response_headers_to_add.length > 0) {
      for (const name of cfg.response_headers_to_remove) removeHeader(res.headers, name);
      for (const add of cfg.response_headers_to_add) {
        if (!add.append) removeHeader(res.headers, add.name);
        res.headers.push(add.name, add.value);
      }
    }
    if (setCookie !== undefined && res.error === undefined) {
      res.headers.push("set-cookie", setCookie);
    }
    if (grpc) {
      const gs = getHeader(res.headers, "grpc-status");
      if (gs !== undefined) ex.grpcStatus = gs;
    }
    return res;
  }

  /**
   * Starts an attempt: counts it on host and cluster and arms its timeout, which cancels
   * `a.cancel`. Returns the timer to stop when the attempt is over (none without a timeout).
   */
  #begin(
    req: ProxyRequest,
    a: Attempt,
    ex: Exchange,
    tryMs: number,
    perTry: boolean,
  ): Timer | undefined {
    const d = this.#d;
    a.host.begin();
    a.cluster.active++;
    a.cluster.requests++;
    if (a.retry) a.cluster.activeRetries++;
    ex.connectMs = -1;
    ex.upstreamFirstByte = 0;
    let timer: Timer | undefined;
    if (Number.isFinite(tryMs)) {
      a.tryMs = tryMs;
      a.perTry = perTry;
      timer = d.wheel.scheduleCall(Math.max(0, tryMs), attemptTimedOut, a);
    }
    // The first attempt of a body-less request starts when the request did (one clock read
    // less on the hot path); later attempts read the clock.
    ex.upstreamStart = a.retry || req.body !== null ? d.clock.monotonic() : ex.forwardStart;
    return timer;
  }

  /** The `UpstreamError` an attempt that threw `err` ends with. */
  #attemptError(err: unknown, a: Attempt, cancel: Cancel): UpstreamError {
    if (cancel.cancelled) {
      return new UpstreamError("upstream_timeout", (cancel.reason as Error).message);
    }
    if (err instanceof UpstreamError) return err;
    this.#d.log.error("unexpected upstream error", {
      err,
      cluster: a.cluster.name,
      host: a.host.key,
    });
    return new UpstreamError("upstream_reset", String((err as Error)?.message ?? err));
  }

  /** Waits the backoff delay; false when it would overrun the deadline. */
  async #backoff(
    retry: number,
    cfg: { base_interval: number; max_interval?: number },
    deadline: number,
  ): Promise<boolean> {
    const d = this.#d;
    const max = cfg.max_interval ?? cfg.base_interval * 10;
    const ms = backoffDelay(retry, cfg.base_interval, max, d.rng);
    if (d.clock.monotonic() + ms >= deadline) return false;
    if (ms > 0) await d.clock.sleep(ms);
    return true;
  }

  #fail(ex: Exchange, reason: string, message: string, grpc: boolean): ProxyResponse {
    ex.error = reason;
    this.#d.log.warn("request failed", {
      reason,
      detail: message,
      listener: ex.listener,
      route: ex.route,
      cluster: ex.cluster,
      upstream: ex.upstreamHost,
      request_id: ex.requestId,
      retries: ex.retries,
    });
    return localReply(reason, message, grpc);
  }
}
