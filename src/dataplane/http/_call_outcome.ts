import { getHeader, type ProxyRequest, type ProxyResponse } from "./message.ts";

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

/** True when the request's body failed on the client's side (it went away, or timed out). */
export function downstreamFailed(req: ProxyRequest | undefined): boolean {
  return (req?.body as { failure?: unknown } | null | undefined)?.failure !== undefined;
}
