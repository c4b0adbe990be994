import type { FaultConfig } from "../../config/mod.ts";
import type { Rng } from "../../core/rng.ts";
import { headerTest } from "../http/router.ts";

/** The local reply an injected abort asks for. */
export interface FaultAbort {
  /** HTTP status; 200 for a gRPC abort carried in `grpcStatus`. */
  readonly status: number;
  /** gRPC status to answer with (trailers-only), set only for gRPC requests. */
  readonly grpcStatus?: number;
}

/** What to inject into one request: a delay first, then possibly an abort. */
export interface FaultDecision {
  /** Milliseconds to wait before forwarding or aborting; 0 when no delay was drawn. */
  readonly delayMs: number;
  /** The abort to answer with instead of forwarding, or `null` to forward. */
  readonly abort: FaultAbort | null;
}

/**
 * Envoy's HTTP fault injection for one route: a fixed delay for a percentage of requests
 * and an abort for a percentage of requests, drawn independently of each other (a request
 * may be both delayed and aborted), only for requests matching every header condition.
 *
 * @example
 * ```ts
 * const faults = new FaultInjector(route.fault, mathRng);
 * const d = faults.decide(req.headers, grpc);
 * if (d !== null) {
 *   if (d.delayMs > 0) await clock.sleep(d.delayMs, signal);
 *   if (d.abort !== null) return abortReply(d.abort, grpc);
 * }
 * ```
 */
export class FaultInjector {
  readonly #rng: Rng;
  readonly #headers: ((headers: string[]) => boolean)[];
  readonly #delayMs: number;
  readonly #delayPercent: number;
  readonly #abortPercent: number;
  readonly #httpAbort: FaultAbort;
  readonly #grpcAbort: FaultAbort;
  readonly #result: { delayMs: number; abort: FaultAbort | null } = { delayMs: 0, abort: null };

  /**
   * @param config delay, abort and header conditions (percentages 0–100, decimals allowed)
   * @param rng uniform random source (`mathRng` in production, `seededRng` in tests)
   */
  constructor(config: FaultConfig, rng: Rng) {
    this.#rng = rng;
    this.#headers = config.headers.map(headerTest);
    this.#delayMs = config.delay?.fixed_delay ?? 0;
    this.#delayPercent = config.delay?.percentage ?? 0;
    const abort = config.abort;
    this.#abortPercent = abort?.percentage ?? 0;
    this.#httpAbort = Object.freeze({ status: abort?.http_status ?? 503 });
    this.#grpcAbort = abort?.grpc_status === undefined
      ? this.#httpAbort
      : Object.freeze({ status: 200, grpcStatus: abort.grpc_status });
  }

  /**
   * Draws the faults for one request. For a gRPC request with `grpc_status` configured the
   * abort is HTTP 200 carrying that gRPC status (as Envoy answers gRPC aborts); otherwise it
   * is `http_status`, or 503 when only `grpc_status` is configured.
   *
   * The returned object is reused: it is valid until the next call of `decide` on this
   * injector, so read it at once and do not keep it.
   *
   * @param headers the request's fields (flat name/value pairs, lower-case names)
   * @param grpc whether the request is a gRPC call
   * @returns `null` when the header conditions do not hold or neither a delay nor an abort
   * was drawn
   */
  decide(headers: string[], grpc: boolean): FaultDecision | null {
    for (const test of this.#headers) if (!test(headers)) return null;
    const delayed = drawn(this.#delayPercent, this.#rng);
    const aborted = drawn(this.#abortPercent, this.#rng);
    if (!delayed && !aborted) return null;
    const r = this.#result;
    r.delayMs = delayed ? this.#delayMs : 0;
    r.abort = aborted ? (grpc ? this.#grpcAbort : this.#httpAbort) : null;
    return r;
  }
}

/** True for `percent` % of calls; draws from `rng` only when the outcome is not certain. */
function drawn(percent: number, rng: Rng): boolean {
  return percent >= 100 || (percent > 0 && rng() * 100 < percent);
}
