/**
 * Why a request did not get a response from an upstream. The names are the values of the
 * `x-skiff-error` response header, the `reason` label of `skiff_errors_total` and the
 * `error` field of the access log.
 */
export type FailureReason =
  | "connect_failure"
  | "connect_timeout"
  /** A mutual-TLS peer is not the workload expected (SPIFFE ID) or presents no SVID. */
  | "upstream_identity"
  | "upstream_reset"
  | "upstream_timeout"
  | "upstream_protocol_error"
  | "overflow"
  | "no_healthy_upstream"
  | "retry_budget_exhausted"
  /** The cluster's circuit breaker refused the request. */
  | "circuit_open";

/** A failure talking to an upstream, classified for retry decisions and error replies. */
export class UpstreamError extends Error {
  override name = "UpstreamError";
  readonly reason: FailureReason;
  /**
   * True when a reused keep-alive connection was closed by the upstream without a byte of
   * response: the upstream most likely closed it as idle before seeing the request, so a
   * replayable request is retried once on a fresh connection without counting as a retry.
   */
  readonly staleReuse: boolean;

  constructor(
    reason: FailureReason,
    message: string,
    opts: { staleReuse?: boolean; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.reason = reason;
    this.staleReuse = opts.staleReuse ?? false;
  }
}
