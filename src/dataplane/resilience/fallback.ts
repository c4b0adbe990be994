import type { FallbackConfig } from "../../config/mod.ts";
import { BufferedBody } from "../http/body.ts";
import { GrpcStatus } from "../http/grpc.ts";
import { getHeader, type ProxyResponse, removeHeader } from "../http/message.ts";

/** The skiff failure reason each `on` entry of a fallback answers. */
const REASON: Record<FallbackConfig["on"][number], string> = {
  circuit_open: "circuit_open",
  no_healthy_upstream: "no_healthy_upstream",
  timeout: "upstream_timeout",
};

const encoder = new TextEncoder();

/**
 * A route's degraded answer for some failures: a static response built here, or another
 * cluster (`cluster`) for the caller to re-route to.
 *
 * @example
 * ```ts
 * const fallback = new Fallback(route.fallback);
 * if (fallback.applies(err.reason)) {
 *   if (fallback.cluster !== undefined) return forward(fallback.cluster);
 *   return fallback.response(grpc, err.reason);
 * }
 * ```
 */
export class Fallback {
  /** The cluster to re-route to, or `undefined` when the fallback is a static response. */
  readonly cluster: string | undefined;
  readonly #reasons: ReadonlySet<string>;
  readonly #status: number;
  readonly #body: Uint8Array;
  readonly #httpHeaders: readonly string[] | null;
  readonly #grpcHeaders: readonly string[] | null;

  /** @param config the route's `fallback` */
  constructor(config: FallbackConfig) {
    this.cluster = config.cluster;
    this.#reasons = new Set(config.on.map((on) => REASON[on]));
    const res = config.response;
    this.#status = res?.status ?? 200;
    this.#body = encoder.encode(res?.body ?? "");
    if (res === undefined) {
      this.#httpHeaders = this.#grpcHeaders = null;
      return;
    }
    const http: string[] = [];
    const grpc = [
      "content-type",
      "application/grpc",
      "grpc-status",
      String(grpcStatusFor(res.status)),
    ];
    if (res.body !== "") grpc.push("grpc-message", encodeURIComponent(res.body));
    for (const add of res.headers) {
      if (add.name === "x-skiff-fallback") continue; // always skiff's own, added per reply
      addHeader(http, add);
      if (add.name !== "content-type") addHeader(grpc, add); // a gRPC reply stays application/grpc
    }
    if (getHeader(http, "content-type") === undefined) {
      http.push("content-type", "text/plain; charset=utf-8");
    }
    this.#httpHeaders = http;
    this.#grpcHeaders = grpc;
  }

  /**
   * True when this fallback answers failure `reason`: `circuit_open`, `no_healthy_upstream`
   * or `upstream_timeout` (configured as `timeout`), each when listed in `on`.
   *
   * @param reason a skiff failure reason (the `x-skiff-error` value)
   */
  applies(reason: string): boolean {
    return this.#reasons.has(reason);
  }

  /**
   * The static fallback response, a fresh object each call (the caller may mutate its
   * headers). For HTTP: the configured status, body and headers, `content-type: text/plain`
   * unless configured. For gRPC: a trailers-only reply (HTTP 200, `application/grpc`) whose
   * `grpc-status` is mapped from the configured status (2xx → OK; a configured `grpc-status`
   * header overrides it) with the body as `grpc-message`; a configured `content-type` is not
   * applied. Both carry `x-skiff-fallback: <reason>`.
   *
   * @param grpc whether the request is a gRPC call
   * @param reason the failure answered, sent as `x-skiff-fallback`
   * @throws {TypeError} when the fallback is a cluster, not a response
   */
  response(grpc: boolean, reason: string): ProxyResponse {
    const template = grpc ? this.#grpcHeaders : this.#httpHeaders;
    if (template === null) {
      throw new TypeError(
        `The fallback re-routes to cluster "${this.cluster}" and has no static response — ` +
          "check fallback.cluster before asking for a response",
      );
    }
    const headers = template.slice();
    headers.push("x-skiff-fallback", reason);
    if (grpc) return { status: 200, headers, body: null };
    return { status: this.#status, headers, body: new BufferedBody(this.#body) };
  }
}

/** Adds a configured field, replacing fields of that name unless `append`. */
function addHeader(headers: string[], add: { name: string; value: string; append: boolean }): void {
  if (!add.append) removeHeader(headers, add.name);
  headers.push(add.name, add.value);
}

/**
 * The gRPC status for an HTTP status (gRPC's HTTP-to-status mapping, as Envoy's local
 * replies use it), except that a 2xx fallback is a success: OK.
 */
function grpcStatusFor(status: number): number {
  if (status >= 200 && status < 300) return 0; // OK
  switch (status) {
    case 400:
      return GrpcStatus.INTERNAL;
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return GrpcStatus.PERMISSION_DENIED;
    case 404:
      return GrpcStatus.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcStatus.UNAVAILABLE;
    default:
      return GrpcStatus.UNKNOWN;
  }
}
