import { z } from "zod";
import { describeValue } from "./_describe_value.ts";
import { BindAddress, Duration } from "./_common_schema.ts";
import { Listener } from "./_listener_schema.ts";
import { Cluster } from "./_cluster_schema.ts";
import { Gossip } from "./_gossip_schema.ts";

export { Address, BindAddress, Duration } from "./_common_schema.ts";

const Admin = z.strictObject({
  address: BindAddress,
});

const AccessLog = z.strictObject({
  sink: z.enum(["off", "stdout", "file"]).default("off"),
  path: z.string().optional().describe('The file to append to (sink "file").'),
}).refine((a) => a.sink !== "file" || a.path !== undefined, {
  error: 'access_log.sink "file" needs a path — add path: with the file to write to',
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
