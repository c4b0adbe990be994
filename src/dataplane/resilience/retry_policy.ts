import type { RetryPolicyConfig } from "../../config/schema.ts";
import type { FailureReason } from "../upstream_error.ts";

/** Methods that are safe to send twice (RFC 9110 §9.2.2). */
export const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);

/**
 * Whether an upstream failure (no response) is retriable under `policy`.
 * `connect-failure` covers refused and timed-out connects (and mesh peers with the wrong
 * SPIFFE ID: another endpoint may be the right one), `reset` covers connections that
 * failed or closed before a response, and `5xx` / `gateway-error` include per-try timeouts
 * (which Envoy also treats as a 504).
 */
export function retriableFailure(policy: RetryPolicyConfig, reason: FailureReason): boolean {
  const on = policy.retry_on;
  switch (reason) {
    case "connect_failure":
    case "connect_timeout":
    case "upstream_identity": // another endpoint may be the right workload
      return on.includes("connect-failure") || on.includes("5xx") || on.includes("gateway-error");
    case "upstream_reset":
      return on.includes("reset") || on.includes("5xx") || on.includes("gateway-error");
    case "upstream_timeout":
      return on.includes("5xx") || on.includes("gateway-error");
    default:
      return false;
  }
}

/** Whether a response status is retriable under `policy`. */
export function retriableStatus(policy: RetryPolicyConfig, status: number): boolean {
  const on = policy.retry_on;
  if (status >= 500 && on.includes("5xx")) return true;
  if ((status === 502 || status === 503 || status === 504) && on.includes("gateway-error")) {
    return true;
  }
  return on.includes("retriable-status-codes") && policy.retriable_status_codes.includes(status);
}
