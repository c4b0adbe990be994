import type { OutlierDetectionConfig } from "../../config/mod.ts";
import type { Rng } from "../../core/rng.ts";
import {
  ejectionTimeMs,
  mayEject,
  nextEjectionMultiplier,
  successRateThreshold,
} from "./outlier_math.ts";

/** Why an endpoint was ejected (the `reason` label of `skiff_outlier_ejections_total`). */
export type EjectionReason =
  | "consecutive_5xx"
  | "consecutive_gateway_failure"
  | "consecutive_local_origin_failure"
  | "success_rate";

/**
 * What one request to an endpoint came to, as outlier detection counts it: the status of the
 * response it got (the connection worked), a failure of local origin (connect failure or
 * timeout, reset, timeout), or a connection that opened (TCP proxying, where there is no
 * response status).
 */
export type OutlierOutcome = number | "local_origin_failure" | "local_origin_success";

/** What {@linkcode OutlierDetector} is given besides its configuration. */
export interface OutlierDetectorDeps {
  /** Monotonic time in milliseconds. */
  now: () => number;
  /** Draws the `enforcing_success_rate` chance. */
  rng: Rng;
  /** Told of every ejection, with how long it lasts at least. */
  onEject?: (key: string, reason: EjectionReason, durationMs: number) => void;
  /** Told when an ejected endpoint is back. */
  onReturn?: (key: string) => void;
}

/** One endpoint's outlier state, as `/clusters` shows it. */
export interface OutlierState {
  /** Out of load balancing now. */
  ejected: boolean;
  /** Ejections so far. */
  ejections: number;
  /** While ejected: the monotonic time from which the next interval tick brings it back. */
  ejectedUntil: number | undefined;
}

/** The counts kept for one endpoint. */
class HostCounts {
  errors5xx = 0;
  gatewayFailures = 0;
  localFailures = 0;
  /** Requests and failures in the current interval (success rate). */
  requests = 0;
  failures = 0;
  ejected = false;
  ejectedAt = 0;
  /** The ejection time multiplier: ejections in a row, less one per good interval since. */
  multiplier = 0;
  ejections = 0;
  returnedAt: number | undefined;
}

/**
 * Envoy's outlier detection for the endpoints of one cluster, with errors of local origin
 * (connect failures and timeouts, resets, timeouts) counted apart from HTTP 5xx responses, as
 * Envoy's `split_external_local_origin_errors: true`.
 *
 * Consecutive errors: every 5xx response counts toward `consecutive_5xx`, a 502, 503 or 504
 * also toward `consecutive_gateway_failure` (any other response resets that count), and a
 * failure of local origin toward `consecutive_local_origin_failure`; a response below 500
 * resets the HTTP counts, and any response (or opened connection) the local-origin one. An
 * endpoint is ejected when a count reaches its threshold (0 turns it off). Ejected, its
 * outcomes are not counted; it comes back with every count at zero.
 *
 * An ejection lasts `base_ejection_time` times the endpoint's ejections in a row, at most
 * `max_ejection_time`; the multiplier drops by one for each interval the endpoint then
 * stays in. Ejections end at the interval tick (`tick()`) after their time is over, as in
 * Envoy. At most `max_ejection_percent` of the endpoints are ejected at once, and one always
 * may be when that is above 0.
 *
 * Success rate: at each tick, the endpoints (not ejected) that had at least
 * `success_rate_request_volume` requests in the interval are compared — when there are at
 * least `success_rate_minimum_hosts` of them — and those whose success rate (responses below
 * 500 and opened connections, over all outcomes) is below `mean − stdev ×
 * success_rate_stdev_factor / 1000` are ejected with the chance `enforcing_success_rate` %.
 *
 * Pure: time comes from `deps.now`, nothing is scheduled; the caller calls `tick()` every
 * `interval`.
 *
 * @example
 * ```ts
 * const detector = new OutlierDetector(config, { now: () => clock.monotonic(), rng });
 * detector.setHosts(["10.0.0.1:80", "10.0.0.2:80"]);
 * if (detector.record("10.0.0.1:80", 503)) lb.update(usable());
 * ```
 */
export class OutlierDetector {
  readonly #config: OutlierDetectionConfig;
  readonly #deps: OutlierDetectorDeps;
  #hosts = new Map<string, HostCounts>();
  #ejected = 0;

  /**
   * @param config the cluster's `outlier_detection` (durations in milliseconds)
   * @param deps the clock, the random source and who to tell about ejections
   */
  constructor(config: OutlierDetectionConfig, deps: OutlierDetectorDeps) {
    this.#config = config;
    this.#deps = deps;
  }

  /** Endpoints ejected now. */
  get ejectedCount(): number {
    return this.#ejected;
  }

  /**
   * Sets the endpoints to watch, by key: new ones start with clean counts, the state of those
   * still present carries over, and removed ones are forgotten (an ejected one frees its place
   * in `max_ejection_percent`).
   */
  setHosts(keys: Iterable<string>): void {
    const next = new Map<string, HostCounts>();
    for (const key of keys) next.set(key, this.#hosts.get(key) ?? new HostCounts());
    this.#hosts = next;
    this.#recount();
  }

  /**
   * Takes over the state `from` (the same cluster in an older config version) has of the
   * endpoints watched here.
   */
  adopt(from: OutlierDetector): void {
    for (const key of this.#hosts.keys()) {
      const old = from.#hosts.get(key);
      if (old) this.#hosts.set(key, Object.assign(new HostCounts(), old));
    }
    this.#recount();
  }

  /** True when `key` is ejected now. */
  isEjected(key: string): boolean {
    return this.#hosts.get(key)?.ejected ?? false;
  }

  /** The outlier state of `key`, or undefined when it is not watched. */
  state(key: string): OutlierState | undefined {
    const h = this.#hosts.get(key);
    if (!h) return undefined;
    const c = this.#config;
    return {
      ejected: h.ejected,
      ejections: h.ejections,
      ejectedUntil: h.ejected
        ? h.ejectedAt + ejectionTimeMs(c.base_ejection_time, c.max_ejection_time, h.multiplier)
        : undefined,
    };
  }

  /**
   * Counts the outcome of one request to `key` (ignored while it is ejected or not watched).
   *
   * @returns true when this outcome ejected the endpoint
   */
  record(key: string, outcome: OutlierOutcome): boolean {
    const h = this.#hosts.get(key);
    if (h === undefined || h.ejected) return false;
    const c = this.#config;
    h.requests++;
    if (outcome === "local_origin_failure") {
      h.failures++;
      if (!reached(++h.localFailures, c.consecutive_local_origin_failure)) return false;
      h.localFailures = 0;
      return this.#eject(key, h, "consecutive_local_origin_failure");
    }
    h.localFailures = 0;
    if (outcome === "local_origin_success") return false;
    if (outcome < 500) {
      h.errors5xx = 0;
      h.gatewayFailures = 0;
      return false;
    }
    h.failures++;
    if (outcome >= 502 && outcome <= 504) {
      if (reached(++h.gatewayFailures, c.consecutive_gateway_failure)) {
        h.gatewayFailures = 0;
        if (this.#eject(key, h, "consecutive_gateway_failure")) return true;
      }
    } else h.gatewayFailures = 0;
    if (!reached(++h.errors5xx, c.consecutive_5xx)) return false;
    h.errors5xx = 0;
    return this.#eject(key, h, "consecutive_5xx");
  }

  /**
   * The interval's work: brings back the endpoints whose ejection time is over, lowers the
   * multiplier of those that stayed in a whole interval, then ejects by success rate over the
   * interval's requests and starts a new interval.
   *
   * @returns true when an endpoint was brought back or ejected
   */
  tick(): boolean {
    const now = this.#deps.now();
    const c = this.#config;
    let changed = false;
    for (const [key, h] of this.#hosts) {
      if (h.ejected) {
        const time = ejectionTimeMs(c.base_ejection_time, c.max_ejection_time, h.multiplier);
        if (now - h.ejectedAt < time) continue;
        h.ejected = false;
        h.returnedAt = now;
        this.#ejected--;
        changed = true;
        this.#deps.onReturn?.(key);
      } else if (
        h.multiplier > 0 && h.returnedAt !== undefined && now - h.returnedAt >= c.interval
      ) {
        h.multiplier--;
      }
    }
    const sampled: [string, HostCounts, number][] = [];
    for (const [key, h] of this.#hosts) {
      if (!h.ejected && h.requests >= c.success_rate_request_volume) {
        sampled.push([key, h, (100 * (h.requests - h.failures)) / h.requests]);
      }
      h.requests = 0;
      h.failures = 0;
    }
    if (sampled.length === 0 || sampled.length < c.success_rate_minimum_hosts) return changed;
    const threshold = successRateThreshold(sampled.map((s) => s[2]), c.success_rate_stdev_factor);
    for (const [key, h, rate] of sampled) {
      if (rate >= threshold) continue;
      if (this.#deps.rng() * 100 >= c.enforcing_success_rate) continue;
      if (this.#eject(key, h, "success_rate")) changed = true;
    }
    return changed;
  }

  /**
   * Ejects `h` unless `max_ejection_percent` forbids it (the count that reached its threshold
   * starts again either way, as in Envoy); an ejected endpoint's counts all start again.
   */
  #eject(key: string, h: HostCounts, reason: EjectionReason): boolean {
    const c = this.#config;
    if (!mayEject(this.#ejected, this.#hosts.size, c.max_ejection_percent)) return false;
    h.errors5xx = h.gatewayFailures = h.localFailures = 0;
    h.ejected = true;
    h.ejectedAt = this.#deps.now();
    h.multiplier = nextEjectionMultiplier(c.base_ejection_time, c.max_ejection_time, h.multiplier);
    h.ejections++;
    this.#ejected++;
    this.#deps.onEject?.(
      key,
      reason,
      ejectionTimeMs(c.base_ejection_time, c.max_ejection_time, h.multiplier),
    );
    return true;
  }

  #recount(): void {
    let n = 0;
    for (const h of this.#hosts.values()) if (h.ejected) n++;
    this.#ejected = n;
  }
}

/** Whether a consecutive count reached its threshold (0: the check is off). */
function reached(count: number, threshold: number): boolean {
  return threshold > 0 && count >= threshold;
}
