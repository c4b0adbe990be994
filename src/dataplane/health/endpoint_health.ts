import type { ClusterConfig } from "../../config/mod.ts";
import type { Clock, Timer } from "../../core/clock.ts";
import type { Logger } from "../../core/logger.ts";
import type { Rng } from "../../core/rng.ts";
import type { Counter } from "../../telemetry/counter.ts";
import type { Host } from "../balance/host.ts";
import {
  type EjectionReason,
  OutlierDetector,
  type OutlierOutcome,
} from "../resilience/outlier_detector.ts";
import { UpstreamError } from "../upstream_error.ts";
import { type CheckResult, HealthChecker, type HealthStatus } from "./health_checker.ts";
import { createProbe } from "./create_probe.ts";
import type { Probe } from "./probe.ts";

/** The counters outlier detection and health checks update (children labelled by cluster). */
export interface EndpointHealthCounters {
  /** `skiff_outlier_ejections_total{cluster,reason}`. */
  outlierEjections(reason: EjectionReason): Counter;
  /** `skiff_health_checks_total{cluster,result}`. */
  healthChecks(result: CheckResult): Counter;
}

/** What {@linkcode EndpointHealth} is given besides the cluster's config. */
export interface EndpointHealthDeps {
  clock: Clock;
  rng: Rng;
  counters: EndpointHealthCounters;
  /** Where ejections, returns and health changes are logged; not logged without it. */
  log?: Logger;
  /** Replaces the probe `health_check` asks for (tests). */
  probe?: Probe;
  /** Called when the endpoints that may take traffic may have changed. */
  onChange: () => void;
}

/** What an upstream attempt came to: a response (its status), a failure, or a TCP connection. */
export type AttemptOutcome = { readonly status: number } | UpstreamError | "connected";

/** One endpoint's health and outlier state, as `/clusters` shows it. */
export interface EndpointHealthState {
  health: HealthStatus;
  ejected: boolean;
  ejections: number;
}

/**
 * The outlier detection and active health checks of one cluster's endpoints, and which
 * endpoints may take traffic: those neither ejected nor unhealthy — unless that leaves none,
 * then all of them ("panic", as Envoy's panic threshold, but reached only when no endpoint
 * is left where Envoy's default is below 50 %): a cluster whose every endpoint looks bad
 * still tries them rather than failing every request at once.
 *
 * Health checks start with the first `setHosts()`; the outlier interval timer with the
 * constructor. `close()` stops both.
 */
export class EndpointHealth {
  readonly #name: string;
  readonly #deps: EndpointHealthDeps;
  readonly #outlier: OutlierDetector | undefined;
  readonly #checker: HealthChecker | undefined;
  #tick: Timer | undefined;
  #panic = false;
  #closed = false;

  /**
   * @param config the cluster (its `outlier_detection` and `health_check`, either optional)
   * @param deps clock, random source, counters, log, and who to tell about changes
   */
  constructor(config: ClusterConfig, deps: EndpointHealthDeps) {
    this.#name = config.name;
    this.#deps = deps;
    const log = deps.log;
    const fields = (key: string) => ({ cluster: config.name, upstream: key });
    const od = config.outlier_detection;
    if (od) {
      this.#outlier = new OutlierDetector(od, {
        now: () => deps.clock.monotonic(),
        rng: deps.rng,
        onEject: (key, reason, ms) => {
          deps.counters.outlierEjections(reason).inc();
          log?.warn("endpoint ejected", { ...fields(key), reason, ejection_ms: ms });
        },
        onReturn: (key) => log?.info("endpoint back from ejection", fields(key)),
      });
      const interval = od.interval;
      const tick = () => {
        this.#tick = deps.clock.setTimer(tick, interval);
        if (this.#outlier!.tick()) deps.onChange();
      };
      this.#tick = deps.clock.setTimer(tick, interval);
    }
    const hc = config.health_check;
    if (hc) {
      this.#checker = new HealthChecker(hc, {
        clock: deps.clock,
        rng: deps.rng,
        probe: deps.probe ?? createProbe(hc, config.name),
        onCheck: (_key, result) => deps.counters.healthChecks(result).inc(),
        onChange: (key, from, to, detail) => {
          log?.[to === "unhealthy" ? "warn" : "info"](`endpoint ${to}`, {
            ...fields(key),
            from,
            detail,
          });
          deps.onChange();
        },
      });
    }
  }

  /** Sets the endpoints to watch and check (the cluster's current hosts). */
  setHosts(hosts: readonly Host[]): void {
    if (this.#closed) return;
    this.#outlier?.setHosts(hosts.map((h) => h.key));
    this.#checker?.setHosts(hosts.map((h) => h.endpoint));
  }

  /**
   * Takes over what `from` (the same cluster in an older config version) knows of the
   * endpoints watched here: ejections, and statuses not yet checked here.
   */
  adopt(from: EndpointHealth): void {
    if (this.#outlier && from.#outlier) this.#outlier.adopt(from.#outlier);
    if (this.#checker && from.#checker) this.#checker.adopt(from.#checker);
  }

  /** Counts the outcome of an attempt to endpoint `key` for outlier detection. */
  observe(key: string, outcome: AttemptOutcome): void {
    const detector = this.#outlier;
    if (detector === undefined) return;
    const o = outlierOutcome(outcome);
    if (o !== undefined && detector.record(key, o)) this.#deps.onChange();
  }

  /** The hosts of `hosts` that may take traffic (all of them when none may: panic). */
  usable(hosts: readonly Host[]): Host[] {
    const ok = hosts.filter((h) =>
      this.#outlier?.isEjected(h.key) !== true && this.#checker?.status(h.key) !== "unhealthy"
    );
    const panic = ok.length === 0 && hosts.length > 0;
    if (panic !== this.#panic) {
      this.#panic = panic;
      this.#deps.log?.[panic ? "warn" : "info"](
        panic
          ? "no endpoint is healthy: balancing over all of them (panic)"
          : "endpoints healthy again: panic is over",
        { cluster: this.#name, endpoints: hosts.length },
      );
    }
    return panic ? [...hosts] : ok;
  }

  /** True while no endpoint is healthy and traffic goes to all of them. */
  get panic(): boolean {
    return this.#panic;
  }

  /** The health and outlier state of endpoint `key`. */
  state(key: string): EndpointHealthState {
    const o = this.#outlier?.state(key);
    return {
      health: this.#checker?.status(key) ?? "unchecked",
      ejected: o?.ejected ?? false,
      ejections: o?.ejections ?? 0,
    };
  }

  /** Stops the health checks and the outlier interval; idempotent. */
  close(): void {
    this.#closed = true;
    this.#tick?.cancel();
    this.#tick = undefined;
    this.#checker?.stop();
  }
}

/**
 * How outlier detection counts an attempt's outcome: a response by its status; connect
 * failures and timeouts, resets, timeouts and a wrong peer identity as failures of local
 * origin; a protocol error as the 502 it is answered with; a reused connection the upstream
 * had closed while idle, and failures that are not the endpoint's (overflow), not at all.
 */
export function outlierOutcome(outcome: AttemptOutcome): OutlierOutcome | undefined {
  if (outcome === "connected") return "local_origin_success";
  if (!(outcome instanceof UpstreamError)) return grpcAsHttp(outcome) ?? outcome.status;
  if (outcome.staleReuse) return undefined;
  switch (outcome.reason) {
    case "connect_failure":
    case "connect_timeout":
    case "upstream_reset":
    case "upstream_timeout":
    case "upstream_identity":
      return "local_origin_failure";
    case "upstream_protocol_error":
      return 502;
    default:
      return undefined;
  }
}

/**
 * The HTTP status a trailers-only gRPC failure counts as (Envoy's mapping for outlier
 * detection): UNKNOWN and INTERNAL 500, UNAVAILABLE 503, DEADLINE_EXCEEDED 504; undefined for
 * anything else.
 */
function grpcAsHttp(
  res: { status: number; headers?: string[]; rawHeaders?: Uint8Array | null },
): number | undefined {
  // gRPC needs HTTP/2: an HTTP/1.1 response (fields still raw bytes) is not parsed for it.
  if (res.status !== 200 || res.rawHeaders) return undefined;
  const h = res.headers;
  if (h === undefined) return undefined;
  for (let i = 0; i < h.length; i += 2) {
    if (h[i] !== "grpc-status") continue;
    switch (h[i + 1]) {
      case "2":
      case "13":
        return 500;
      case "14":
        return 503;
      case "4":
        return 504;
      default:
        return undefined;
    }
  }
  return undefined;
}
