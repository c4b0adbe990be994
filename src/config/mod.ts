/**
 * skiff's configuration: the YAML file format, its loader and validator, the embedded
 * default config and the JSON Schema for editors.
 *
 * ```ts
 * import { ConfigError, loadConfigFile } from "./config/mod.ts";
 * try {
 *   const config = await loadConfigFile("skiff.yaml");
 * } catch (err) {
 *   if (err instanceof ConfigError) console.error(err.message); // every problem, one per line
 * }
 * ```
 * @module
 */
export { loadConfigFile, parseConfig } from "./load.ts";
export { ConfigError, type ConfigIssue, formatIssue } from "./errors.ts";
export { DEFAULT_CONFIG_YAML, defaultConfig } from "./default.ts";
export { configJsonSchema, durationKeys } from "./json_schema.ts";
export { formatDuration, parseDuration } from "./duration.ts";
export { formatAddress, parseAddress, type SocketAddress } from "./address.ts";
export {
  type CircuitBreakerConfig,
  type ClusterConfig,
  type ClusterLimitsConfig,
  type Config,
  type DrainConfig,
  type FallbackConfig,
  type FaultConfig,
  type HeaderMatchConfig,
  type HealthCheckConfig,
  type ListenerConfig,
  type OutlierDetectionConfig,
  type RateLimitConfig,
  type ReloadConfig,
  type ReloadGuardName,
  type RetryPolicyConfig,
  type RouteConfig,
} from "./schema.ts";
