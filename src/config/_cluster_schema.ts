import { z } from "zod";
import { describeValue } from "./_describe_value.ts";
import { Address, Duration, Name, Percentage, PositiveDuration } from "./_common_schema.ts";
import { SpiffeIdText, SpiffeMatcher } from "./_authz_schema.ts";

/** What a call's outcome counts as for a circuit breaker (resilience4j's semantics). */
export const CircuitBreaker = z.strictObject({
  sliding_window_type: z.enum(["count_based", "time_based"]).default("count_based").describe(
    "count_based: the last sliding_window_size calls; time_based: the calls of the last " +
      "sliding_window_size seconds.",
  ),
  sliding_window_size: z.number().int().min(1).max(10_000).default(100).describe(
    "Calls (count_based) or seconds (time_based) the failure and slow-call rates are taken over.",
  ),
  minimum_number_of_calls: z.number().int().min(1).max(100_000).default(100).describe(
    "Calls the window must hold before the rates can open the circuit.",
  ),
  failure_rate_threshold: z.number().gt(0).max(100).default(50).describe(
    "Failure rate (%) at or above which the circuit opens.",
  ),
  slow_call_rate_threshold: z.number().gt(0).max(100).default(100).describe(
    "Slow-call rate (%) at or above which the circuit opens.",
  ),
  slow_call_duration_threshold: Duration.prefault("60s").describe(
    "A call taking at least this long is slow.",
  ),
  wait_duration_in_open_state: Duration.prefault("60s").describe(
    "How long an open circuit refuses calls before it lets trial calls through (half-open).",
  ),
  permitted_number_of_calls_in_half_open_state: z.number().int().min(1).max(10_000).default(10)
    .describe("Trial calls in half-open; their rates decide between closed and open again."),
  max_wait_duration_in_half_open_state: Duration.prefault("0s").describe(
    "Longest time in half-open before the circuit opens again; 0s waits for every trial call.",
  ),
});

/**
 * Envoy's cluster circuit-breaker thresholds: how much a cluster may have in flight, all its
 * endpoints together (`pool` limits each endpoint).
 */
const ClusterLimits = z.strictObject({
  max_connections: z.number().int().min(1).default(1024).describe(
    "Connections to all endpoints together; at the limit, requests wait (max_pending_requests).",
  ),
  max_pending_requests: z.number().int().min(0).default(1024).describe(
    "Requests waiting for a connection, all endpoints together; beyond it, 503 overflow.",
  ),
  max_requests: z.number().int().min(1).default(1024).describe(
    "Requests in flight to the cluster; beyond it, 503 overflow.",
  ),
  max_retries: z.number().int().min(0).optional().describe(
    "Retries in flight to the cluster, beyond which none is made; absent: the retry budget " +
      "alone limits them (as in Envoy, where a retry budget overrides max_retries).",
  ),
});

const Endpoint = z.strictObject({
  address: Address,
  weight: z.number().int().min(1).max(1_000_000).default(1),
  labels: z.record(z.string(), z.string()).default({}),
  spiffe_id: SpiffeIdText.optional().describe(
    "The SPIFFE ID the endpoint's sidecar must present (clusters with tls.mode mtls).",
  ),
});

const UpstreamTls = z.strictObject({
  mode: z.enum(["disable", "mtls"]).default("disable").describe(
    "mtls: HTTP/2 over mutual TLS 1.3 to the endpoints' sidecars, with this workload's SVID.",
  ),
  expect: SpiffeMatcher.optional().describe(
    "SPIFFE IDs accepted from endpoints that do not name their own (spiffe_id, or gossip).",
  ),
});

const Pool = z.strictObject({
  max_connections: z.number().int().min(1).default(1024),
  max_pending_requests: z.number().int().min(0).default(1024),
  max_requests_per_connection: z.number().int().min(0).default(0),
  idle_timeout: Duration.prefault("60s"),
});

const RetryBudget = z.strictObject({
  budget_percent: z.number().min(0).max(100).default(20),
  min_retry_concurrency: z.number().int().min(0).default(3),
});

const Discovery = z.strictObject({
  type: z.enum(["static", "gossip"]).default("static").describe(
    "static: the endpoints listed; gossip: the members offering `service`, from membership.",
  ),
  service: Name.optional().describe(
    "The service name members announce in gossip.services (type gossip).",
  ),
});

/** Consecutive errors that eject an endpoint; 0 turns the check off. */
const ErrorCount = (fallback: number) => z.number().int().min(0).max(1_000_000).default(fallback);

/**
 * Envoy's outlier detection (with external and local-origin errors kept apart, as Envoy's
 * `split_external_local_origin_errors: true`): endpoints that fail in a row, or whose success
 * rate falls far below the others', are ejected from load balancing for a while.
 */
const OutlierDetection = z.strictObject({
  consecutive_5xx: ErrorCount(5).describe(
    "5xx responses in a row that eject an endpoint (a response below 500 resets the count); " +
      "0: off.",
  ),
  consecutive_gateway_failure: ErrorCount(5).describe(
    "502, 503 or 504 responses in a row that eject an endpoint (any other response resets " +
      "the count); 0: off.",
  ),
  consecutive_local_origin_failure: ErrorCount(5).describe(
    "Connect failures, connect timeouts, resets and timeouts in a row that eject an endpoint " +
      "(any response resets the count); 0: off.",
  ),
  interval: PositiveDuration("10s").describe(
    "How often ejections that are over end and success rates are compared.",
  ),
  base_ejection_time: PositiveDuration("30s").describe(
    "An ejection lasts this long times the endpoint's ejections in a row (one less for each " +
      "interval it then stays in).",
  ),
  max_ejection_time: Duration.prefault("300s").describe(
    "The longest an ejection lasts (base_ejection_time when smaller).",
  ),
  max_ejection_percent: Percentage.default(10).describe(
    "Most endpoints (%) ejected at once; when above 0, one endpoint may always be ejected.",
  ),
  success_rate_minimum_hosts: z.number().int().min(1).default(5).describe(
    "Endpoints with success_rate_request_volume requests in an interval needed to compare " +
      "success rates.",
  ),
  success_rate_request_volume: z.number().int().min(1).default(100).describe(
    "Requests an endpoint needs in an interval for its success rate to count.",
  ),
  success_rate_stdev_factor: z.number().int().min(0).default(1900).describe(
    "Ejects endpoints whose success rate is below mean − stdev × factor / 1000 (1900: 1.9).",
  ),
  enforcing_success_rate: Percentage.default(100).describe(
    "Chance (%) that an endpoint found below the success-rate threshold is ejected; 0: never.",
  ),
});

/** One item of `expected_statuses`: a status (204) or an inclusive range ("200-399"). */
const STATUS_EXPECTED = 'a status such as 200 or a range such as "200-399"';
const StatusRange = z.union([
  z.number().int().min(100).max(599),
  z.string().regex(/^[1-5]\d\d-[1-5]\d\d$/, {
    error: (iss) =>
      `expected ${STATUS_EXPECTED}, got ${describeValue(iss.input)}` +
      ' — write a status code from 100 to 599, or two joined by "-" (low-high)',
  }),
], {
  error: (iss) =>
    `expected ${STATUS_EXPECTED}, got ${describeValue(iss.input)}` +
    " — write a status code such as 204, or a range such as 200-299",
}).transform((v): [number, number] =>
  typeof v === "number" ? [v, v] : [Number(v.slice(0, 3)), Number(v.slice(4))]
).refine(([lo, hi]) => lo <= hi, {
  error: 'a status range must not end before it starts — write it low-high, as in "200-399"',
});

/** Envoy's active health checking: a probe per endpoint every interval. */
const HealthCheck = z.strictObject({
  type: z.enum(["http", "tcp"]).default("http").describe(
    "http: a GET of path over HTTP/1.1 in cleartext, healthy on an expected status; " +
      "tcp: healthy when a connection opens.",
  ),
  path: z.string().regex(/^\/[\x21-\x7e]*$/, {
    error: (iss) =>
      `expected a path starting with "/" without spaces, got ${describeValue(iss.input)} — ` +
      (typeof iss.input === "string" && !iss.input.startsWith("/")
        ? `write "/${iss.input}"`
        : "percent-encode spaces and control characters (%20)"),
  }).default("/healthz").describe("The path an HTTP check requests."),
  host: z.string().regex(/^[\x21-\x7e]+$/, {
    error: (iss) =>
      `expected a host name, got ${describeValue(iss.input)}` +
      ' — write it without spaces or control characters, e.g. "api.internal"',
  }).optional().describe("The host header of HTTP checks; the cluster's name when absent."),
  interval: PositiveDuration("5s").describe("Time from the end of one check to the next."),
  interval_jitter: Duration.prefault("0s").describe(
    "A random time up to this long added to each interval, to spread checks out.",
  ),
  timeout: PositiveDuration("1s").describe("How long a check may take before it fails."),
  healthy_threshold: z.number().int().min(1).default(2).describe(
    "Passed checks in a row that bring an unhealthy endpoint back.",
  ),
  unhealthy_threshold: z.number().int().min(1).default(3).describe(
    "Failed checks in a row that mark a healthy endpoint unhealthy.",
  ),
  expected_statuses: z.array(StatusRange).min(1).prefault(["200-399"]).describe(
    'Statuses an HTTP check passes with: numbers (204) and inclusive ranges ("200-299").',
  ),
});

export const Cluster = z.strictObject({
  name: Name.describe("Unique name of the cluster, which routes refer to."),
  protocol: z.enum(["http1", "http2"]).default("http1").describe(
    "The HTTP version spoken to the endpoints.",
  ),
  lb_policy: z.enum(["round_robin", "least_request", "peak_ewma", "ring_hash"]).default(
    "round_robin",
  ).describe("How an endpoint is picked; ring_hash hashes the route's hash_header."),
  connect_timeout: Duration.prefault("1s"),
  endpoints: z.array(Endpoint).default([]).describe("The upstream endpoints."),
  tls: UpstreamTls.prefault({}).describe("Transport security to the endpoints."),
  discovery: Discovery.prefault({}).describe(
    "Where the endpoints come from: the list above (static) or gossip membership.",
  ),
  pool: Pool.prefault({}),
  retry_budget: RetryBudget.prefault({}),
  circuit_breaker: CircuitBreaker.optional().describe(
    "Opens on a high failure or slow-call rate: requests then get 503 circuit_open at once.",
  ),
  limits: ClusterLimits.prefault({}).describe(
    "Envoy-style thresholds for the whole cluster: connections, pending requests, requests " +
      "and retries in flight.",
  ),
  outlier_detection: OutlierDetection.optional().describe(
    "Ejects endpoints that fail in a row or succeed far less than the others; off when absent.",
  ),
  health_check: HealthCheck.optional().describe(
    "Probes each endpoint (HTTP or TCP); unhealthy ones get no traffic. Off when absent.",
  ),
});
