/**
 * Active health checks (HTTP and TCP probes on a schedule, with healthy and unhealthy
 * thresholds) and, with outlier detection, which endpoints of a cluster may take traffic.
 * @module
 */
export {
  type CheckResult,
  HealthChecker,
  type HealthCheckerDeps,
  type HealthStatus,
} from "./health_checker.ts";
export type { Probe } from "./probe.ts";
export { createProbe } from "./create_probe.ts";
export { httpProbe, type HttpProbeOptions, parseStatusLine, statusExpected } from "./http_probe.ts";
export { tcpProbe } from "./tcp_probe.ts";
export {
  type AttemptOutcome,
  EndpointHealth,
  type EndpointHealthCounters,
  type EndpointHealthDeps,
  type EndpointHealthState,
  outlierOutcome,
} from "./endpoint_health.ts";
