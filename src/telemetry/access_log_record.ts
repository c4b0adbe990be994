/**
 * One access-log record, modelled on Envoy's default format. Written as one JSON object per
 * line with the fields in this order; `null` stands for "not known" (Envoy's `-`).
 */
export interface AccessLogRecord {
  /** When the request started, ISO 8601 in UTC (`new Date(clock.now()).toISOString()`). */
  start_time: string;
  /** Request method, e.g. `GET`. */
  method: string;
  /** Request path with query, as received. */
  path: string;
  /** Downstream protocol: `HTTP/1.0`, `HTTP/1.1` or `HTTP/2`. */
  protocol: string;
  /** Status code sent downstream; 0 when no response was sent. */
  response_code: number;
  /**
   * skiff's reason when the proxy itself failed or shaped the request (for example
   * `no_healthy_upstream`, `upstream_connect_failure`, `timeout`, `overflow`), or `""`.
   */
  response_flags: string;
  /** Request body bytes received from downstream. */
  bytes_received: number;
  /** Response body bytes sent downstream. */
  bytes_sent: number;
  /** Time from the start of the request to the last byte sent, in milliseconds. */
  duration_ms: number;
  /** Time from sending upstream to the upstream's response headers, in ms; null if none. */
  upstream_service_time_ms: number | null;
  /** The `x-forwarded-for` header as received. */
  x_forwarded_for: string | null;
  /** The `user-agent` header. */
  user_agent: string | null;
  /** The `x-request-id` (received or generated). */
  request_id: string | null;
  /** The `:authority` / `Host`. */
  authority: string | null;
  /** Address (`host:port`) of the upstream endpoint of the last attempt. */
  upstream_host: string | null;
  /** Name of the upstream cluster. */
  upstream_cluster: string | null;
  /** Name of the matched route. */
  route: string | null;
  /** Name of the listener that accepted the request. */
  listener: string;
  /** Address (`host:port`) of the downstream peer. */
  downstream_remote_address: string | null;
  /** Number of retries (attempts after the first). */
  retries: number;
  /** The `grpc-status` of a gRPC response; omitted for other traffic. */
  grpc_status?: number;
  /** The client's SPIFFE ID on a mutual-TLS listener (Envoy's DOWNSTREAM_PEER_URI_SAN). */
  downstream_peer_uri_san?: string;
}

/**
 * Serialises a record as one JSON line (without the newline), fields in a fixed order and
 * durations rounded to microseconds.
 *
 * @example
 * ```ts
 * formatAccessLogRecord(record); // '{"start_time":"2024-01-01T00:00:00.000Z","method":"GET",...}'
 * ```
 */
export function formatAccessLogRecord(r: AccessLogRecord): string {
  return JSON.stringify({
    start_time: r.start_time,
    method: r.method,
    path: r.path,
    protocol: r.protocol,
    response_code: r.response_code,
    response_flags: r.response_flags,
    bytes_received: r.bytes_received,
    bytes_sent: r.bytes_sent,
    duration_ms: roundMicros(r.duration_ms),
    upstream_service_time_ms: r.upstream_service_time_ms === null
      ? null
      : roundMicros(r.upstream_service_time_ms),
    x_forwarded_for: r.x_forwarded_for,
    user_agent: r.user_agent,
    request_id: r.request_id,
    authority: r.authority,
    upstream_host: r.upstream_host,
    upstream_cluster: r.upstream_cluster,
    route: r.route,
    listener: r.listener,
    downstream_remote_address: r.downstream_remote_address,
    retries: r.retries,
    grpc_status: r.grpc_status,
    downstream_peer_uri_san: r.downstream_peer_uri_san,
  });
}

function roundMicros(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
