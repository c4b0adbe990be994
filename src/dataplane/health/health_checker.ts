import type { HealthCheckConfig } from "../../config/mod.ts";
import { TimeoutError } from "../../core/abort.ts";
import type { Clock, Timer } from "../../core/clock.ts";
import type { Rng } from "../../core/rng.ts";
import type { Endpoint } from "../../discovery/endpoint.ts";
import type { Probe } from "./probe.ts";

/**
 * An endpoint's health as active checks see it: `unchecked` before its first check has
 * finished (it then takes traffic), `healthy` or `unhealthy` after.
 */
export type HealthStatus = "unchecked" | "healthy" | "unhealthy";

/** How one check ended (the `result` label of `skiff_health_checks_total`). */
export type CheckResult = "success" | "failure" | "timeout";

/** What a {@linkcode HealthChecker} is given besides its configuration. */
export interface HealthCheckerDeps {
  /** Schedules the checks and their timeouts. */
  clock: Clock;
  /** Draws the `interval_jitter`. */
  rng: Rng;
  /** Checks one endpoint (see `createProbe`). */
  probe: Probe;
  /** Told of every finished check; `detail` says what failed. */
  onCheck?: (key: string, result: CheckResult, detail: string | undefined) => void;
  /** Told when an endpoint's status changes, after it did. */
  onChange?: (
    key: string,
    from: HealthStatus,
    to: HealthStatus,
    detail: string | undefined,
  ) => void;
}

/** The checking of one endpoint. */
class Target {
  status: HealthStatus = "unchecked";
  successes = 0;
  failures = 0;
  /** The next check's timer, or the running check's timeout. */
  timer: Timer | undefined;
  /** Aborts the running check. */
  abort: AbortController | undefined;
  stopped = false;
  constructor(public endpoint: Endpoint) {}
}

/**
 * Envoy-style active health checking of a cluster's endpoints: each endpoint is checked at
 * once when it appears, then `interval` (plus a random part of `interval_jitter`) after each
 * check ends. A check that takes longer than `timeout` fails. An endpoint's first check
 * decides its status (as in Envoy, where one success marks a new endpoint healthy); after
 * that, `unhealthy_threshold` failures in a row mark a healthy endpoint unhealthy and
 * `healthy_threshold` successes in a row bring an unhealthy one back.
 *
 * Until its first check ends an endpoint is `unchecked` and takes traffic — skiff does not,
 * like Envoy, hold a new cluster back until every endpoint was checked once, so that a
 * reload or a new gossip endpoint never leaves a cluster without endpoints for a moment.
 *
 * @example
 * ```ts
 * const checker = new HealthChecker(config, {
 *   clock,
 *   rng,
 *   probe: createProbe(config, "app"),
 *   onChange: (key, from, to) => console.log(key, from, "→", to),
 * });
 * checker.setHosts(endpoints);
 * // ...
 * checker.stop();
 * ```
 */
export class HealthChecker {
  readonly #config: HealthCheckConfig;
  readonly #deps: HealthCheckerDeps;
  #targets = new Map<string, Target>();
  #stopped = false;

  /**
   * @param config the cluster's `health_check` (durations in milliseconds)
   * @param deps clock, random source, probe and who to tell about results
   */
  constructor(config: HealthCheckConfig, deps: HealthCheckerDeps) {
    this.#config = config;
    this.#deps = deps;
  }

  /**
   * Sets the endpoints to check: new ones are checked at once, removed ones are no longer
   * checked (a check in flight is abandoned), and those still present keep their status and
   * schedule (with the new `Endpoint`, whose weight or labels may have changed).
   */
  setHosts(endpoints: Iterable<Endpoint>): void {
    if (this.#stopped) return;
    const next = new Map<string, Target>();
    const fresh: Target[] = [];
    for (const ep of endpoints) {
      let t = this.#targets.get(ep.key);
      if (t) t.endpoint = ep;
      else fresh.push(t = new Target(ep));
      next.set(ep.key, t);
    }
    for (const [key, t] of this.#targets) if (!next.has(key)) this.#halt(t);
    this.#targets = next;
    for (const t of fresh) void this.#check(t);
  }

  /**
   * Takes over the status `from` (the same cluster in an older config version) has of the
   * endpoints checked here that have not finished a check of their own yet.
   */
  adopt(from: HealthChecker): void {
    for (const [key, t] of this.#targets) {
      const old = from.#targets.get(key);
      if (!old || t.status !== "unchecked") continue;
      t.status = old.status;
      t.successes = old.successes;
      t.failures = old.failures;
    }
  }

  /** The status of endpoint `key`; `unchecked` for one not checked here. */
  status(key: string): HealthStatus {
    return this.#targets.get(key)?.status ?? "unchecked";
  }

  /** Stops every check; idempotent. Statuses stay readable. */
  stop(): void {
    this.#stopped = true;
    for (const t of this.#targets.values()) this.#halt(t);
  }

  async #check(t: Target): Promise<void> {
    t.timer = undefined;
    if (t.stopped) return;
    const d = this.#deps;
    const timeoutMs = this.#config.timeout;
    const abort = t.abort = new AbortController();
    const timedOut = Promise.withResolvers<"timeout">();
    t.timer = d.clock.setTimer(() => {
      abort.abort(new TimeoutError("health check timeout", timeoutMs));
      timedOut.resolve("timeout");
    }, timeoutMs);
    let detail: string | undefined;
    const result = await Promise.race([
      d.probe(t.endpoint, abort.signal).then(
        () => "success" as const,
        (err) => {
          detail = err instanceof Error ? err.message : String(err);
          return "failure" as const;
        },
      ),
      timedOut.promise,
    ]);
    t.timer?.cancel();
    t.abort = undefined;
    if (t.stopped) return;
    if (result === "timeout") detail = `no answer within ${timeoutMs} ms`;
    this.#record(t, result, detail);
    const c = this.#config;
    const jitter = c.interval_jitter > 0 ? Math.floor(d.rng() * c.interval_jitter) : 0;
    t.timer = d.clock.setTimer(() => void this.#check(t), c.interval + jitter);
  }

  #record(t: Target, result: CheckResult, detail: string | undefined): void {
    const c = this.#config;
    this.#deps.onCheck?.(t.endpoint.key, result, detail);
    const from = t.status;
    let to = from;
    if (result === "success") {
      t.failures = 0;
      t.successes++;
      if (from === "unchecked" || (from === "unhealthy" && t.successes >= c.healthy_threshold)) {
        to = "healthy";
      }
    } else {
      t.successes = 0;
      t.failures++;
      if (from === "unchecked" || (from === "healthy" && t.failures >= c.unhealthy_threshold)) {
        to = "unhealthy";
      }
    }
    if (to === from) return;
    t.status = to;
    this.#deps.onChange?.(t.endpoint.key, from, to, result === "success" ? undefined : detail);
  }

  #halt(t: Target): void {
    t.stopped = true;
    t.timer?.cancel();
    t.timer = undefined;
    t.abort?.abort(new Error("health checking stopped"));
    t.abort = undefined;
  }
}
