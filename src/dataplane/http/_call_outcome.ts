import type { Body } from "./body.ts";
import { getHeader, type ProxyResponse } from "./message.ts";

/** gRPC statuses that count as a failed call (Envoy maps them to 500, 503 and 504). */
const GRPC_FAILURES = new Set(["2", "4", "13", "14"]);

/**
 * Whether a response counts as a successful call for circuit breakers: below 500, not a
 * failure skiff generated, and for gRPC not a trailers-only UNKNOWN, DEADLINE_EXCEEDED,
 * INTERNAL or UNAVAILABLE. (Statuses in trailers come after the head and are not seen.)
 */
export function callSucceeded(res: ProxyResponse, grpc: boolean): boolean {
  if (res.status >= 500 || res.error !== undefined) return false;
  if (!grpc) return true;
  const gs = getHeader(res.headers, "grpc-status");
  return gs === undefined || !GRPC_FAILURES.has(gs);
}

/**
 * True when a request body failed on the client's side: malformed, or its client went away or
 * timed out (an HTTP/1.x body records why in `failure`, null or absent while it has not failed).
 *
 * @param body the body as the client's connection gave it (not a retry's replay of it)
 */
export function downstreamFailed(body: Body | null | undefined): boolean {
  return (body as { failure?: unknown } | null | undefined)?.failure != null;
}
