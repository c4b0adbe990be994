import type { Clock } from "../../core/clock.ts";
import { TimeoutError } from "../../core/abort.ts";
import { Cancel } from "../../core/cancel.ts";
import type { Host } from "../balance/host.ts";
import type { ClusterRuntime } from "../cluster.ts";
import type { Exchange, ExchangeEndHook } from "../exchange.ts";

/**
 * One attempt at sending a request upstream. It is also the exchange's end hook once its
 * response is the one sent downstream (no closure per request).
 */
export class Attempt implements ExchangeEndHook {
  /** The response counts as a success for the host's statistics. */
  ok = false;
  /** Cancels the upstream request when the attempt's timeout passes. */
  readonly cancel = new Cancel();
  /** The attempt's timeout in milliseconds, and whether it is the per-try one. */
  tryMs = Infinity;
  perTry = false;

  constructor(
    readonly host: Host,
    readonly cluster: ClusterRuntime,
    readonly retry: boolean,
    readonly ex: Exchange,
    readonly clock: Clock,
  ) {}

  /** Releases the host's and cluster's in-flight slot and records the latency. */
  end(ok: boolean): void {
    const ex = this.ex;
    const now = ex.end || ex.upstreamFirstByte || this.clock.monotonic();
    const latency = (ex.upstreamFirstByte || now) - ex.upstreamStart;
    this.host.end(now, latency, ok);
    this.cluster.active--;
    if (this.retry) this.cluster.activeRetries--;
  }

  /**
   * Releases the host's and cluster's in-flight slot without an outcome: the attempt ended
   * because its client failed, which says nothing about the host.
   */
  abandon(): void {
    this.host.abandon(this.clock.monotonic());
    this.cluster.active--;
    if (this.retry) this.cluster.activeRetries--;
  }

  exchangeEnded(): void {
    this.end(this.ok);
  }
}

/** The timer callback of an attempt's timeout (one function for all attempts). */
export function attemptTimedOut(a: Attempt): void {
  a.cancel.cancel(
    new TimeoutError(a.perTry ? "per-try timeout" : "route timeout", Math.round(a.tryMs)),
  );
}
