import { z } from "zod";
import { describeValue } from "./_describe_value.ts";
import {
  Duration,
  exactlyOne,
  HeaderName,
  HeaderValue,
  Method,
  Name,
  nameSchema,
  PathText,
  Percentage,
  Regex,
} from "./_common_schema.ts";
import { Authz } from "./_authz_schema.ts";
import { CircuitBreaker } from "./_cluster_schema.ts";

const HeaderMatch = z.strictObject({
  name: HeaderName,
  exact: z.string().optional(),
  prefix: z.string().optional(),
  regex: Regex.optional().describe("Regular expression the whole value must match."),
  present: z.boolean().optional(),
  invert: z.boolean().default(false),
}).refine(...exactlyOne(
  "a header match",
  ["exact", "prefix", "regex", "present"],
  "add one; present: true matches any value",
));

const RouteMatch = z.strictObject({
  authority: z.string().optional().describe(
    'Host/:authority to match, exact or with a leading wildcard ("*.example.com"); port ignored.',
  ),
  prefix: PathText("a path prefix").optional().describe("Path prefix to match, e.g. /api/."),
  path: PathText("a path").optional().describe("Exact path to match (without the query string)."),
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
  per_try_timeout: Duration.refine((ms) => ms > 0, {
    error: "per_try_timeout must be above 0 (leave it out for no per-try deadline) — " +
      "set it to a duration above 0, for example 1s",
  }).optional().describe("Deadline of each attempt."),
  retriable_status_codes: z.array(z.number().int().min(100).max(599)).default([]).describe(
    'Status codes retried when retry_on has "retriable-status-codes".',
  ),
  backoff: z.strictObject({
    base_interval: Duration.prefault("25ms"),
    max_interval: Duration.optional(),
  }).refine((b) => !(b.max_interval! < b.base_interval), { // (an invalid one is reported already)
    path: ["max_interval"],
    error: "max_interval is below base_interval, so every backoff would be cut to it — " +
      "set max_interval to base_interval or more (or leave it out: 10 times base_interval)",
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
}).refine(...exactlyOne(
  "sticky",
  ["header", "cookie"],
  "add header: NAME, or cookie: { name: NAME, ttl: 1h }",
));

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
export const RateLimit = z.strictObject({
  max_tokens: z.number().int().min(1).describe("Bucket size: the largest burst."),
  tokens_per_fill: z.number().int().min(1).default(1).describe("Tokens added at each fill."),
  fill_interval: Duration.refine((ms) => ms > 0, {
    error: "fill_interval must be above 0 — set it to a duration above 0, for example 1s",
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
}).refine(...exactlyOne(
  "a fallback",
  ["response", "cluster"],
  "add response: { status: 503 }, or cluster: NAME",
));

/** A route's `cluster`, where a list most likely means a traffic split. */
const ClusterName = nameSchema((input) =>
  Array.isArray(input)
    ? "expected one cluster name, got a list — write cluster: NAME; to split traffic " +
      "between clusters, use weighted_clusters: [{ cluster: NAME, weight: 50 }, ...]"
    : undefined
);

export const Route = z.strictObject({
  name: Name.optional(),
  match: RouteMatch.prefault({}).describe("Which requests the route takes."),
  cluster: ClusterName.optional().describe("The cluster to send requests to."),
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
}).refine(...exactlyOne(
  "a route",
  ["cluster", "weighted_clusters"],
  "add cluster: NAME, or weighted_clusters to split traffic",
));
