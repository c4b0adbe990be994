import type { FailureReason } from "../upstream_error.ts";

/** gRPC status codes skiff produces. */
export const GrpcStatus = {
  UNKNOWN: 2,
  DEADLINE_EXCEEDED: 4,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

/** True for a gRPC request (`content-type: application/grpc` or `application/grpc+…`). */
export function isGrpc(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.startsWith("application/grpc") &&
    !contentType.startsWith("application/grpc-web");
}

const UNITS: Record<string, number> = {
  H: 3_600_000,
  M: 60_000,
  S: 1_000,
  m: 1,
  u: 0.001,
  n: 1e-6,
};

/**
 * Parses a `grpc-timeout` header value (`1-8 digits` + unit H, M, S, m, u, n).
 *
 * @returns milliseconds, or `undefined` when the value is malformed
 * @example
 * ```ts
 * parseGrpcTimeout("250m"); // 250
 * parseGrpcTimeout("2S"); // 2000
 * ```
 */
export function parseGrpcTimeout(value: string): number | undefined {
  const m = /^(\d{1,8})([HMSmun])$/.exec(value);
  return m ? Number(m[1]) * UNITS[m[2]] : undefined;
}

/** The gRPC status for a local failure (gRPC's HTTP-to-status mapping, like Envoy). */
export function grpcStatusForFailure(reason: FailureReason | "no_route" | string): number {
  switch (reason) {
    case "no_route":
      return GrpcStatus.UNIMPLEMENTED;
    case "forbidden":
      return GrpcStatus.PERMISSION_DENIED;
    case "upstream_timeout":
      return GrpcStatus.DEADLINE_EXCEEDED;
    case "upstream_protocol_error":
      return GrpcStatus.INTERNAL;
    case "rate_limited":
      return GrpcStatus.RESOURCE_EXHAUSTED;
    default:
      return GrpcStatus.UNAVAILABLE;
  }
}
