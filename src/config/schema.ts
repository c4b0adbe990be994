import { z } from "zod";
import { DURATION_PATTERN, formatDuration, parseDuration } from "./duration.ts";
import { ADDRESS_PATTERN, parseAddress } from "./address.ts";
import { describeValue } from "./_describe_value.ts";

// Every message below says what was expected; the loader adds file, line, column and path.
// A "fix" hint is carried in the message after " — " so the formatter can print it apart.
// Messages for the generic checks (types, ranges, enums) come from the loader's error map;
// an `error` function here returns undefined to leave a case (a missing key) to it.
//
// Defaults of durations are given as text with `.prefault("15s")`, not as milliseconds with
// `.default(15000)`: the output is the same, and the JSON Schema then shows editors a default
// they could have written.

/** The longest duration a timer can wait (2^31 - 1 ms, about 24.8 days). */
const MAX_DURATION_MS = 2 ** 31 - 1;

/**
 * The message for a value of the wrong type where text of some form was expected, or
 * `undefined` for a missing key (which the loader words itself).
 */
function notText(what: string, input: unknown, fix: string): string | undefined {
  if (input === undefined) return undefined;
  const got = describeValue(input);
  return `expected ${what}, got ${got} — ${
    input === null ? "give it a value or remove the key" : fix
  }`;
}

/** A duration such as `250ms`, `2s`, `1m`, `1h`, parsed to milliseconds. */
export const Duration = z.string({
  error: (iss) =>
    notText(
      'a duration such as "250ms" or "2s"',
      iss.input,
      typeof iss.input === "number"
        ? `write "${iss.input}s" or "${iss.input}ms"`
        : "write a whole number followed by ms, s, m or h",
    ),
})
  .refine((s) => parseDuration(s) !== undefined, {
    error: (iss) =>
      `expected a duration such as "250ms" or "2s", got ${describeValue(iss.input)}` +
      " — write a whole number followed by ms, s, m or h",
    abort: true,
  })
  .refine((s) => parseDuration(s)! <= MAX_DURATION_MS, {
    error: (iss) =>
      `duration ${describeValue(iss.input)} is too long — use at most ${
        formatDuration(Math.floor(MAX_DURATION_MS / 3_600_000) * 3_600_000)
      } (timers cannot wait longer than about 24 days)`,
  })
  .meta({
    description: 'A whole number followed by ms, s, m or h: "250ms", "2s", "1m", "1h".',
    pattern: DURATION_PATTERN.source,
    examples: ["250ms", "2s", "1m"],
  })
  .transform((s) => parseDuration(s)!);

/** What to do about text that is not an address, by the most likely mistake. */
function addressFix(text: string, low = 1): string {
  const port = /:(\d+)$/.exec(text);
  if (!text.includes(":")) return `add the port, e.g. "${text}:8080"`;
  if (!text.startsWith("[") && text.indexOf(":") !== text.lastIndexOf(":")) {
    return port
      ? `put an IPv6 host in brackets: "[${text.slice(0, port.index)}]:${port[1]}"`
      : 'put an IPv6 host in brackets and add the port, e.g. "[::1]:8080"';
  }
  if (port && (Number(port[1]) < low || Number(port[1]) > 65535)) {
    return `use a port from ${low} to 65535`;
  }
  return `write host:port with a port from ${low} to 65535`;
}

function addressSchema(allowPortZero: boolean) {
  const low = allowPortZero ? 0 : 1;
  return z.string({
    error: (iss) =>
      notText(
        'an address such as "127.0.0.1:8080"',
        iss.input,
        `write host:port, e.g. "127.0.0.1:${typeof iss.input === "number" ? iss.input : 8080}"`,
      ),
  })
    .refine((s) => parseAddress(s, { allowPortZero }) !== undefined, {
      error: (iss) =>
        `expected an address such as "127.0.0.1:8080" or "[::1]:8080", got ${
          describeValue(iss.input)
        } — ${addressFix(String(iss.input), low)}`,
    })
    .meta({
      description: 'host:port, with an IPv6 host in brackets: "127.0.0.1:8080", "[::1]:8080".' +
        (allowPortZero ? " Port 0 binds any free port." : ""),
      pattern: ADDRESS_PATTERN.source,
      examples: ["127.0.0.1:8080", "[::1]:8080"],
    })
    .transform((s) => parseAddress(s, { allowPortZero })!);
}

/** A socket address `host:port` (IPv6 in brackets), parsed to `{hostname, port}`. */
export const Address = addressSchema(false);

/** An address to listen on: like `Address`, and port 0 picks any free port. */
export const BindAddress = addressSchema(true);

const Name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, {
  error: (iss) =>
    `expected a name of letters, digits, "_", "." or "-", got ${describeValue(iss.input)}` +
    " — start with a letter or digit and use at most 63 characters",
});

const HeaderName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, {
  error: (iss) =>
    `expected an HTTP header name, got ${describeValue(iss.input)}` +
    ' — use letters, digits and "-", as in "x-request-id"',
}).transform((s) => s.toLowerCase());

const HeaderValue = z.string().refine((s) => !/[\r\n\0]/.test(s), {
  error: (iss) =>
    `header value ${describeValue(iss.input)} contains a line break or NUL` +
    " — header values must be a single line",
});

const Regex = z.string().refine((s) => {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}, {
  error: (iss) =>
    `expected a valid regular expression, got ${describeValue(iss.input)}` +
    " — check brackets and escapes; the syntax is JavaScript's",
});

/** Whether the object `input` (as given to a refinement) has any of `keys` set. */
function hasAny(input: unknown, keys: string[]): boolean {
  const o = input as Record<string, unknown> | null;
  return typeof o === "object" && o !== null && keys.some((k) => o[k] !== undefined);
}

const Port = z.number().int().min(1).max(65535);

const HeaderMatch = z.strictObject({
  name: HeaderName,
  exact: z.string().optional(),
  prefix: z.string().optional(),
  regex: Regex.optional().describe("Regular expression the whole value must match."),
  present: z.boolean().optional(),
  invert: z.boolean().default(false),
}).refine(
  (h) => [h.exact, h.prefix, h.regex, h.present].filter((v) => v !== undefined).length === 1,
  {
    error: (iss) =>
      "a header match needs exactly one of exact, prefix, regex or present — " +
      (hasAny(iss.input, ["exact", "prefix", "regex", "present"])
        ? "keep one of them"
        : "add one; present: true matches any value"),
  },
);

const Method = z.enum([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "PATCH",
  "OPTIONS",
  "CONNECT",
  "TRACE",
]);

const RouteMatch = z.strictObject({
  authority: z.string().optional().describe(
    'Host/:authority to match, exact or with a leading wildcard ("*.example.com"); port ignored.',
  ),
  prefix: z.string().startsWith("/", {
    error: (iss) => `a path prefix starts with "/", got ${describeValue(iss.input)}`,
  }).optional().describe("Path prefix to match, e.g. /api/."),
  path: z.string().startsWith("/", {
    error: (iss) => `a path starts with "/", got ${describeValue(iss.input)}`,
  }).optional().describe("Exact path to match (without the query string)."),
  regex: Regex.optional().describe("Regular expression the whole path must match."),
  methods: z.array(Method).min(1).optional().describe("Request methods to match; any if absent."),
  headers: z.array(HeaderMatch).default([]).describe("Header conditions; all must hold."),
}).refine(
  (m) => [m.prefix, m.path, m.regex].filter((v) => v !== undefined).length <= 1,
  {
    error: "a route matches at most one of prefix, path or regex — keep one of them",
  },
);

const RetryOn = z.enum([
  "5xx",
  "gateway-error",
  "reset",
  "connect-failure",
  "retriable-status-codes",
]);

const RetryPolicy = z.strictObject({
  retry_on: z.array(RetryOn).min(1).default(["connect-failure", "reset", "gateway-error"])
    .describe("The failures that are retried."),
  num_retries: z.number().int().min(0).max(10).default(1).describe(
    "Retries after the first attempt.",
  ),
  per_try_timeout: Duration.optional().describe("Deadline of each attempt."),
  retriable_status_codes: z.array(z.number().int().min(100).max(599)).default([]).describe(
    'Status codes retried when retry_on has "retriable-status-codes".',
  ),
  backoff: z.strictObject({
    base_interval: Duration.prefault("25ms"),
    max_interval: Duration.optional(),
  }).prefault({}),
});

const HeaderToAdd = z.strictObject({
  name: HeaderName,
  value: HeaderValue,
  append: z.boolean().default(false),
});

const WeightedCluster = z.strictObject({
  cluster: Name,
  weight: z.number().int().min(0).max(1_000_000),
  subset: z.record(z.string().min(1), z.string()).refine((s) => Object.keys(s).length > 0, {
    error: "a subset names at least one label — add one, e.g. { version: v2 }, or remove subset",
  }).optional().describe(
    "Only the cluster's endpoints whose labels include all of these, e.g. { version: v2 } " +
      "(the whole cluster when absent). A subset without endpoints answers " +
      "no_healthy_upstream; the same cluster may appear several times with other subsets.",
  ),
});

/** A cookie name: an HTTP token (RFC 6265). */
const CookieName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, {
  error: (iss) =>
    `expected a cookie name, got ${describeValue(iss.input)}` +
    ' — use letters, digits and "-" or "_", as in "skiff-split"',
});

const StickyCookie = z.strictObject({
  name: CookieName.describe(
    "The cookie that remembers the branch (an id of its cluster and subset).",
  ),
  ttl: Duration.prefault("1h").describe(
    "The cookie's Max-Age; 0s makes it a session cookie (no Max-Age).",
  ),
});

/**
 * How a route's weighted pick is kept for a user: by a hash of a header's value, or by a
 * cookie skiff sets on the first response.
 */
const Sticky = z.strictObject({
  header: HeaderName.optional().describe(
    "Header whose value decides the branch (a hash: the same value keeps its branch while the " +
      "weights stay; a change of weights moves some values). Without it: a random pick.",
  ),
  cookie: StickyCookie.optional().describe(
    "Cookie naming the branch (an id of its cluster and subset, so reordering branches keeps " +
      "it): a request with a valid one goes there; one without (or naming a branch removed or " +
      "of weight 0) gets a weighted pick and the response sets the cookie.",
  ),
}).refine((s) => (s.header === undefined) !== (s.cookie === undefined), {
  error: (iss) =>
    "sticky needs exactly one of header or cookie — " +
    (hasAny(iss.input, ["header", "cookie"])
      ? "keep one of them"
      : "add header: NAME, or cookie: { name: NAME, ttl: 1h }"),
});

/**
 * A SPIFFE ID's shape (`spiffe://trust-domain/path`); the identity layer checks every rule of
 * the SPIFFE spec when it is used.
 */
const SPIFFE_ID_PATTERN = /^spiffe:\/\/[a-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

const SpiffeIdText = z.string().regex(SPIFFE_ID_PATTERN, {
  error: (iss) =>
    `expected a SPIFFE ID such as "spiffe://example.org/ns/prod/sa/web", got ${
      describeValue(iss.input)
    } — lower-case trust domain, then path segments of letters, digits, ".", "_" or "-"`,
});

/** Which SPIFFE IDs are accepted: exactly one of the four keys. */
const SpiffeMatcher = z.union([
  z.strictObject({ exact: SpiffeIdText }),
  z.strictObject({ prefix: SpiffeIdText }),
  z.strictObject({ trust_domain: z.string().regex(/^[a-z0-9._-]+$/) }),
  z.strictObject({ any: z.literal(true) }),
], {
  error: () =>
    "expected one of exact: ID, prefix: ID, trust_domain: NAME or any: true" +
    ' — e.g. { prefix: "spiffe://example.org/ns/prod" }',
});

const PathMatcher = z.union([
  z.strictObject({ exact: z.string().startsWith("/") }),
  z.strictObject({ prefix: z.string().startsWith("/") }),
], { error: () => 'expected { exact: "/path" } or { prefix: "/path/" } — paths start with "/"' });

const AuthzRule = z.strictObject({
  action: z.enum(["allow", "deny"]).default("allow"),
  from: z.array(SpiffeMatcher).min(1).optional().describe(
    "Peers (by SPIFFE ID) the rule applies to; any peer when absent.",
  ),
  methods: z.array(Method).min(1).optional().describe("Request methods; any when absent."),
  paths: z.array(PathMatcher).min(1).optional().describe("Request paths; any when absent."),
});

const Authz = z.strictObject({
  rules: z.array(AuthzRule).describe(
    "Deny rules first, then allow rules; a request no rule allows is denied (403).",
  ),
});

const ListenerTls = z.strictObject({
  mode: z.enum(["disable", "mtls"]).default("disable").describe(
    "mtls: mutual TLS 1.3 with this workload's SVID; clients must present a valid SVID.",
  ),
});

const Percentage = z.number().min(0).max(100);

/** What a call's outcome counts as for a circuit breaker (resilience4j's semantics). */
const CircuitBreaker = z.strictObject({
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

const FaultDelay = z.strictObject({
  fixed_delay: Duration.describe("How long a delayed request waits before it is forwarded."),
  percentage: Percentage.describe("Share of requests delayed (%)."),
});

const FaultAbort = z.strictObject({
  http_status: z.number().int().min(200).max(599).optional().describe(
    "Status answered instead of forwarding.",
  ),
  grpc_status: z.number().int().min(0).max(16).optional().describe(
    "gRPC status answered to gRPC requests instead of forwarding (others get http_status or 503).",
  ),
  percentage: Percentage.describe("Share of requests aborted (%)."),
}).refine((a) => a.http_status !== undefined || a.grpc_status !== undefined, {
  error: "an abort needs http_status, grpc_status or both — add http_status: 503",
});

/** Envoy's HTTP fault injection, per route. */
const Fault = z.strictObject({
  delay: FaultDelay.optional(),
  abort: FaultAbort.optional(),
  headers: z.array(HeaderMatch).default([]).describe(
    "Inject only into requests matching all of these (e.g. x-skiff-fault present).",
  ),
}).refine((f) => f.delay !== undefined || f.abort !== undefined, {
  error: "a fault needs a delay, an abort or both — add abort: { http_status: 503, percentage: 1 }",
});

/** A token bucket (Envoy's local rate limit): 429 with retry-after when empty. */
const RateLimit = z.strictObject({
  max_tokens: z.number().int().min(1).describe("Bucket size: the largest burst."),
  tokens_per_fill: z.number().int().min(1).default(1).describe("Tokens added at each fill."),
  fill_interval: Duration.refine((ms) => ms > 0, {
    error: "fill_interval must be above 0 — for example 1s",
  }).describe("How often tokens are added."),
});

const FallbackResponse = z.strictObject({
  status: z.number().int().min(200).max(599).default(200),
  body: z.string().default(""),
  headers: z.array(HeaderToAdd).default([]),
});

const FallbackOn = z.enum(["circuit_open", "no_healthy_upstream", "timeout"]);

/** A route's degraded answer: a static response, or another cluster. */
const Fallback = z.strictObject({
  response: FallbackResponse.optional(),
  cluster: Name.optional(),
  on: z.array(FallbackOn).min(1).default(["circuit_open", "no_healthy_upstream", "timeout"])
    .describe("The failures the fallback answers."),
}).refine((f) => (f.response === undefined) !== (f.cluster === undefined), {
  error: "a fallback needs exactly one of response or cluster — keep one of them",
});

const Route = z.strictObject({
  name: Name.optional(),
  match: RouteMatch.prefault({}).describe("Which requests the route takes."),
  cluster: Name.optional().describe("The cluster to send requests to."),
  weighted_clusters: z.array(WeightedCluster).min(1).optional().describe(
    "Clusters to split requests between, in proportion to their weights.",
  ),
  prefix_rewrite: z.string().optional().describe(
    "Replaces the part of the path matched by match.prefix before forwarding.",
  ),
  timeout: Duration.prefault("15s").describe("Whole-request deadline; 0s disables it."),
  retry: RetryPolicy.optional().describe("Retry policy; no retries when absent."),
  hash_header: HeaderName.optional().describe("Header whose value feeds a ring_hash cluster."),
  sticky: Sticky.optional().describe(
    "Keeps each user on one branch of weighted_clusters, by header or cookie; requests without " +
      "either get a random weighted pick.",
  ),
  request_headers_to_add: z.array(HeaderToAdd).default([]),
  request_headers_to_remove: z.array(HeaderName).default([]),
  response_headers_to_add: z.array(HeaderToAdd).default([]),
  response_headers_to_remove: z.array(HeaderName).default([]),
  authz: Authz.optional().describe(
    "Who may use this route, checked after the listener's policy (both must allow).",
  ),
  circuit_breaker: CircuitBreaker.optional().describe(
    "A circuit breaker of this route's own (besides its clusters').",
  ),
  fault: Fault.optional().describe("Delays and aborts injected on purpose (tests in production)."),
  rate_limit: RateLimit.optional().describe("Local rate limit of this route."),
  fallback: Fallback.optional().describe(
    "What to answer when the circuit is open, no endpoint is healthy, or the upstream times out.",
  ),
}).refine((r) => (r.cluster === undefined) !== (r.weighted_clusters === undefined), {
  error: (iss) =>
    "a route needs exactly one of cluster or weighted_clusters — " +
    (hasAny(iss.input, ["cluster", "weighted_clusters"])
      ? "keep one of them"
      : "add cluster: NAME, or weighted_clusters to split traffic"),
});

const ListenerLimits = z.strictObject({
  max_connections: z.number().int().min(1).default(10_000),
  max_request_header_bytes: z.number().int().min(1024).max(1 << 20).default(64 * 1024),
  max_request_headers: z.number().int().min(1).max(1000).default(100),
});

const ListenerTimeouts = z.strictObject({
  idle: Duration.prefault("60s").describe("Keep-alive idle time between requests."),
  request_headers: Duration.prefault("10s").describe("Time to receive a full request head."),
  request: Duration.prefault("5m").describe("Time to receive a full request body."),
});

const TcpProxy = z.strictObject({
  cluster: Name,
  idle_timeout: Duration.prefault("1h"),
});

const Detection = z.strictObject({
  timeout: Duration.prefault("100ms").describe("How long to wait for the client's first bytes."),
  server_first_ports: z.array(Port).default([21, 22, 25, 110, 143, 3306, 5432]),
});

const Listener = z.strictObject({
  name: Name.describe("Unique name of the listener."),
  address: BindAddress,
  protocol: z.enum(["http", "tcp", "auto"]).default("http").describe(
    "http serves routes, tcp forwards connections to tcp.cluster, auto detects HTTP and " +
      "forwards the rest.",
  ),
  routes: z.array(Route).default([]).describe("HTTP routes (protocols http and auto)."),
  tcp: TcpProxy.optional().describe("Where to forward TCP (protocols tcp and auto)."),
  detection: Detection.prefault({}).describe("Protocol detection (protocol auto)."),
  limits: ListenerLimits.prefault({}),
  timeouts: ListenerTimeouts.prefault({}),
  tls: ListenerTls.prefault({}).describe("Transport security of accepted connections."),
  authz: Authz.optional().describe(
    "Who may do what, by the peer's SPIFFE ID, method and path; absent: everyone.",
  ),
  rate_limit: RateLimit.optional().describe(
    "Local rate limit of the whole listener (HTTP requests; TCP: connections).",
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

/** A duration that must be above 0 (an interval or timeout that cannot be off). */
const PositiveDuration = (fallback: string) =>
  Duration.prefault(fallback).refine((ms) => ms > 0, {
    error: (iss) =>
      `${String(iss.path?.at(-1) ?? "the duration")} must be above 0 — for example 1s`,
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
const StatusRange = z.union([
  z.number().int().min(100).max(599),
  z.string().regex(/^[1-5]\d\d-[1-5]\d\d$/, {
    error: (iss) =>
      `expected a status such as 200 or a range such as "200-399", got ${describeValue(iss.input)}`,
  }),
]).transform((v): [number, number] =>
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
    error: (iss) => `expected a host name, got ${describeValue(iss.input)}`,
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

const Cluster = z.strictObject({
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

const Admin = z.strictObject({
  address: BindAddress,
});

const AccessLog = z.strictObject({
  sink: z.enum(["off", "stdout", "file"]).default("off"),
  path: z.string().optional().describe('The file to append to (sink "file").'),
}).refine((a) => a.sink !== "file" || a.path !== undefined, {
  error: 'access_log.sink "file" needs a path — add path: with the file to write to',
});

const GossipService = z.strictObject({
  name: Name.describe("The service name clusters discover it by (discovery.service)."),
  port: z.number().int().min(1).max(65535).describe("The port it serves on, at this member."),
  protocol: z.enum(["http", "http2", "grpc", "tcp"]).default("http"),
  labels: z.record(z.string(), z.string()).default({}).describe(
    "Labels its endpoints carry, such as version and zone.",
  ),
});

/** A cluster key: base64 of 16, 24 or 32 random bytes (AES-128/192/256-GCM). */
const ClusterKey = z.string().refine((s) => decodeKey(s) !== undefined, {
  error: () =>
    "expected a base64 AES key of 16, 24 or 32 bytes (the value is not repeated here)" +
    " — generate one with: openssl rand -base64 32",
}).transform((s) => decodeKey(s)!);

/** The bytes of a base64 key of a valid AES length, or undefined. */
function decodeKey(s: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s) || s.length % 4 !== 0) return undefined;
  const bytes = Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  return [16, 24, 32].includes(bytes.length) ? bytes : undefined;
}

const Gossip = z.strictObject({
  name: Name.optional().describe(
    "This member's name, unique in the cluster (default: host name and gossip port).",
  ),
  bind: BindAddress.prefault("0.0.0.0:7946").describe(
    "UDP and TCP address of the gossip protocol (one port for both).",
  ),
  advertise: Address.optional().describe(
    "The address other members reach this one at (default: the bind address, or the first " +
      "non-loopback IPv4 address when bound to all interfaces).",
  ),
  cluster: z.string().min(1).max(64).default("skiff").describe(
    "Cluster name, carried in every packet: packets of another cluster are dropped.",
  ),
  seeds: z.array(Address).default([]).describe(
    "Members to join through (any one answering is enough); retried until one answers.",
  ),
  keys: z.array(ClusterKey).default([]).describe(
    "AES-GCM cluster keys, base64: the first encrypts, all decrypt (rotate by adding a key " +
      "everywhere, then moving it first, then removing the old one). Empty: plaintext.",
  ),
  accept_plaintext: z.boolean().default(false).describe(
    "With keys, still accept plaintext packets (only while switching a cluster to encryption).",
  ),
  preset: z.enum(["skiff", "skiff-conservative", "memberlist", "basic"]).default("skiff")
    .describe(
      "Protocol parameters: skiff's (a crash is dead everywhere in about 3 s at 1000 nodes; a " +
        "member stalled for over 1–2 s is declared dead and rejoins), skiff-conservative " +
        "(spares stalls up to about 3 s, detects in about 4.5 s), memberlist's LAN defaults, " +
        "or SWIM as the paper describes it.",
    ),
  probe_interval: Duration.optional().describe("Overrides the preset's probe period."),
  probe_timeout: Duration.optional().describe("Overrides the preset's direct-probe timeout."),
  gossip_interval: Duration.optional().describe("Overrides the preset's gossip period."),
  push_pull_interval: Duration.optional().describe(
    "Overrides the preset's full-state sync period.",
  ),
  max_packet_bytes: z.number().int().min(576).max(65507).default(1400).describe(
    "Largest UDP packet sent; keep it under the path MTU.",
  ),
  spiffe_id: SpiffeIdText.optional().describe(
    "This member's SPIFFE ID, announced to others (default: the identity SVID's ID).",
  ),
  services: z.array(GossipService).default([]).describe(
    "The services this member offers; clusters elsewhere discover them by name.",
  ),
});

const Identity = z.strictObject({
  dir: z.string().min(1).describe(
    "Directory with svid.pem (leaf + chain), svid_key.pem and bundle.pem, as a SPIRE agent " +
      "writes them; watched, so a rotated SVID or bundle is used at once.",
  ),
});

const Workers = z.union([
  z.literal("auto"),
  z.number().int().min(0).max(64),
], {
  error: (iss) =>
    iss.input === undefined
      ? undefined
      : `expected a number of Workers from 0 to 64 or "auto", got ${
        describeValue(iss.input)
      } — use 0 beside one service, "auto" for one per CPU`,
});

const DrainSection = z.strictObject({
  timeout: Duration.prefault("30s").describe(
    "How long in-flight requests, streams and tunnels get to finish once a drain starts " +
      "(SIGTERM, POST /drain, a hot restart, a listener removed by a reload); whatever is " +
      "still open then is closed.",
  ),
  idle_timeout: Duration.prefault("1s").describe(
    "During a drain, an HTTP/1.1 keep-alive connection idle this long is closed; a busy one " +
      "gets connection: close on its next response.",
  ),
});

const ReloadGuard = z.enum(["route_removed", "no_route", "rerouted"]);

const Reload = z.strictObject({
  watch: z.boolean().default(true).describe(
    "Reload when the config file changes (SIGHUP and POST /reload always reload).",
  ),
  shadow: z.boolean().default(false).describe(
    "Before activating a new version, replay the last request heads through its routes; " +
      "report routes that would change or disappear (log and /config/diff).",
  ),
  shadow_requests: z.number().int().min(1).max(100_000).default(1000).describe(
    "How many recent request heads the shadow check keeps (all listeners together).",
  ),
  guards: z.array(ReloadGuard).default(["route_removed"]).describe(
    "With shadow on, refuse a version when a recorded request would: lose the route that " +
      "served it (route_removed), match no route at all (no_route), or go to another route " +
      "or cluster (rerouted).",
  ),
});

/** The whole skiff configuration file. */
export const ConfigSchema = z.strictObject({
  admin: Admin.optional().describe("The admin HTTP server; not started when absent."),
  access_log: AccessLog.prefault({}).describe("One log line per request."),
  listeners: z.array(Listener).min(1, {
    error: "at least one listener is needed — add a listener with a name and an address",
  }).describe("The addresses skiff accepts traffic on."),
  clusters: z.array(Cluster).default([]).describe(
    "Named groups of upstream endpoints that routes and tcp proxies send to.",
  ),
  identity: Identity.optional().describe(
    "This workload's SPIFFE identity (X.509-SVID); not loaded when absent.",
  ),
  gossip: Gossip.optional().describe(
    "Membership and service discovery by gossip (SWIM); not started when absent.",
  ),
  drain: DrainSection.prefault({}).describe(
    "Graceful drain: how long in-flight work may take to finish.",
  ),
  reload: Reload.prefault({}).describe("Hot reload of this file, and its shadow check."),
  workers: Workers.default(0).describe(
    'Data-plane Workers: 0 serves in the main isolate (a sidecar); N or "auto" (one per CPU) ' +
      "runs N Workers that share the listeners (SO_REUSEPORT) and one shared-memory stats block.",
  ),
});

/** A validated configuration with defaults applied and durations in milliseconds. */
export type Config = z.output<typeof ConfigSchema>;
/** One listener of a validated configuration. */
export type ListenerConfig = Config["listeners"][number];
/** One route of a validated configuration. */
export type RouteConfig = ListenerConfig["routes"][number];
/** One cluster of a validated configuration. */
export type ClusterConfig = Config["clusters"][number];
/** The drain section of a validated configuration. */
export type DrainConfig = Config["drain"];
/** The reload section of a validated configuration. */
export type ReloadConfig = Config["reload"];
/** A shadow-check guard of the reload section. */
export type ReloadGuardName = ReloadConfig["guards"][number];
/** A circuit breaker of a cluster or route. */
export type CircuitBreakerConfig = NonNullable<ClusterConfig["circuit_breaker"]>;
/** The outlier detection of a cluster. */
export type OutlierDetectionConfig = NonNullable<ClusterConfig["outlier_detection"]>;
/** The active health check of a cluster. */
export type HealthCheckConfig = NonNullable<ClusterConfig["health_check"]>;
/** The in-flight thresholds of a cluster. */
export type ClusterLimitsConfig = ClusterConfig["limits"];
/** The fault injection of a route. */
export type FaultConfig = NonNullable<RouteConfig["fault"]>;
/** A token-bucket rate limit. */
export type RateLimitConfig = NonNullable<RouteConfig["rate_limit"]>;
/** The fallback of a route. */
export type FallbackConfig = NonNullable<RouteConfig["fallback"]>;
/** The gossip section of a validated configuration. */
export type GossipConfig = NonNullable<Config["gossip"]>;
/** The authorization policy of a listener. */
export type AuthzConfig = NonNullable<ListenerConfig["authz"]>;
/** The retry policy of a route. */
export type RetryPolicyConfig = NonNullable<RouteConfig["retry"]>;
/** One header match of a route. */
export type HeaderMatchConfig = RouteConfig["match"]["headers"][number];

/** One branch of a route's `weighted_clusters`. */
export type WeightedClusterConfig = NonNullable<RouteConfig["weighted_clusters"]>[number];

/** A route's `sticky` section. */
export type StickyConfig = NonNullable<RouteConfig["sticky"]>;
