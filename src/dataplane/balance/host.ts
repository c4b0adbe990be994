import type { Endpoint } from "../../discovery/mod.ts";
import { decayedEwma, DEFAULT_EWMA_DECAY_MS, DEFAULT_EWMA_PENALTY_MS, peakEwma } from "./ewma.ts";

/** Tuning of a host's latency estimate. */
export interface HostOptions {
  /** Time constant of the peak-EWMA estimate, above 0; default 10 s. */
  decayMs?: number;
  /** Latency assumed before the first sample, 0 or more; default 30 ms (see `ewma.ts`). */
  penaltyMs?: number;
}

/** Plain data of a host for the admin `/clusters` page and logs. */
export interface HostSnapshot {
  /** See `Host.key`. */
  key: string;
  /** See `Host.weight`. */
  weight: number;
  /** See `Host.active`. */
  active: number;
  /** See `Host.requests`. */
  requests: number;
  /** See `Host.failures`. */
  failures: number;
  /** See `Host.ewmaMs`. */
  ewmaMs: number;
  /** See `Host.lastUsed`. */
  lastUsed: number | undefined;
}

/**
 * The live, stateful view of one endpoint, shared by the load balancer and the admin
 * page. The cluster keeps one `Host` per endpoint key for as long as the endpoint exists,
 * so counters and the latency estimate survive endpoint-set updates.
 *
 * Times are `Clock.monotonic()` milliseconds. A balancer's `pick()` only reads a host;
 * the caller reports the request with `begin()` when it is sent and `end()` when it
 * finishes.
 *
 * @example
 * ```ts
 * const host = lb.pick()!;
 * host.begin();
 * const start = clock.monotonic();
 * // ... send the request ...
 * host.end(clock.monotonic(), clock.monotonic() - start, response.ok);
 * ```
 */
export class Host {
  /** The endpoint key, `host:port`. */
  readonly key: string;
  /** Time constant of the latency estimate, in milliseconds. */
  readonly decayMs: number;
  #endpoint: Endpoint;
  #active = 0;
  #requests = 0;
  #failures = 0;
  #lastUsed: number | undefined;
  #ewma: number;
  #stamp: number;
  #sampled = false;

  /**
   * Creates the view of a new endpoint, with no requests and the penalty estimate.
   *
   * @param endpoint the endpoint this host stands for
   * @param nowMs the current monotonic time; the penalty starts fading from here
   * @param options tuning of the latency estimate
   * @throws {RangeError} when `decayMs` is not above 0 or `penaltyMs` is negative
   */
  constructor(endpoint: Endpoint, nowMs: number, options: HostOptions = {}) {
    const decayMs = options.decayMs ?? DEFAULT_EWMA_DECAY_MS;
    const penaltyMs = options.penaltyMs ?? DEFAULT_EWMA_PENALTY_MS;
    if (!(decayMs > 0 && decayMs < Infinity)) {
      throw new RangeError(`EWMA decay ${decayMs} ms is invalid: use a time above 0`);
    }
    if (!(penaltyMs >= 0 && penaltyMs < Infinity)) {
      throw new RangeError(`EWMA penalty ${penaltyMs} ms is invalid: use 0 or more`);
    }
    this.key = endpoint.key;
    this.decayMs = decayMs;
    this.#endpoint = endpoint;
    this.#ewma = penaltyMs;
    this.#stamp = nowMs;
  }

  /** The endpoint as last reported by discovery. */
  get endpoint(): Endpoint {
    return this.#endpoint;
  }

  /** The endpoint's weight. Balancers read it in `update()`. */
  get weight(): number {
    return this.#endpoint.weight;
  }

  /** Requests begun and not yet ended. */
  get active(): number {
    return this.#active;
  }

  /** Requests begun, in total. */
  get requests(): number {
    return this.#requests;
  }

  /** Requests that ended with `ok` false, in total. */
  get failures(): number {
    return this.#failures;
  }

  /** Monotonic time of the last `end()`; undefined before the first. */
  get lastUsed(): number | undefined {
    return this.#lastUsed;
  }

  /** The peak-EWMA latency estimate as of the last sample (the penalty before any). */
  get ewmaMs(): number {
    return this.#ewma;
  }

  /** Monotonic time of the last latency sample; the creation time before the first. */
  get sampledAt(): number {
    return this.#stamp;
  }

  /** The latency estimate at `nowMs`, decayed toward 0 since the last sample. */
  ewmaAt(nowMs: number): number {
    return decayedEwma(this.#ewma, nowMs - this.#stamp, this.decayMs);
  }

  /**
   * Takes a new version of the same endpoint (for example a changed weight or labels);
   * call the balancer's `update()` afterwards for a weight change to count.
   *
   * @throws {TypeError} when the endpoint has another key
   */
  setEndpoint(endpoint: Endpoint): void {
    if (endpoint.key !== this.key) {
      throw new TypeError(
        `Host "${this.key}" cannot take endpoint "${endpoint.key}": make a new Host for it`,
      );
    }
    this.#endpoint = endpoint;
  }

  /** Records that a request to this host starts. */
  begin(): void {
    this.#active++;
    this.#requests++;
  }

  /**
   * Records that a request begun with `begin()` finished, and feeds its latency to the
   * estimate (`peakEwma`; the first sample replaces the penalty). A failure never lowers
   * the estimate (a host that fails fast must not look fast), but it does count as a
   * fresh sample.
   *
   * @param nowMs the current monotonic time
   * @param latencyMs how long the request took, 0 or more
   * @param ok whether it succeeded
   * @throws {RangeError} when no request is active or `latencyMs` is negative or NaN
   */
  end(nowMs: number, latencyMs: number, ok: boolean): void {
    if (this.#active === 0) {
      throw new RangeError(`Host "${this.key}": end() without a matching begin()`);
    }
    if (!(latencyMs >= 0)) {
      throw new RangeError(`Host "${this.key}": latency ${latencyMs} ms is not 0 or more`);
    }
    this.#active--;
    if (!ok) this.#failures++;
    const sample = ok ? latencyMs : Math.max(latencyMs, this.#ewma);
    this.#ewma = this.#sampled
      ? peakEwma(this.#ewma, sample, nowMs - this.#stamp, this.decayMs)
      : sample;
    this.#sampled = true;
    this.#stamp = nowMs;
    this.#lastUsed = nowMs;
  }

  /**
   * Records that a request begun with `begin()` ended without an outcome (its client failed):
   * neither a latency sample nor a failure.
   *
   * @param nowMs the current monotonic time
   * @throws {RangeError} when no request is active
   */
  abandon(nowMs: number): void {
    if (this.#active === 0) {
      throw new RangeError(`Host "${this.key}": abandon() without a matching begin()`);
    }
    this.#active--;
    this.#lastUsed = nowMs;
  }

  /** The host's state as plain data. */
  toJSON(): HostSnapshot {
    return {
      key: this.key,
      weight: this.weight,
      active: this.#active,
      requests: this.#requests,
      failures: this.#failures,
      ewmaMs: this.#ewma,
      lastUsed: this.#lastUsed,
    };
  }
}
