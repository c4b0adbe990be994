/**
 * Resilience arithmetic: retry decisions, backoff, budgets, circuit breakers, outlier
 * detection.
 * @module
 */
export { backoffDelay } from "./backoff.ts";
export { retryAllowed } from "./retry_budget.ts";
export { IDEMPOTENT, retriableFailure, retriableStatus } from "./retry_policy.ts";
export { TokenBucket } from "./token_bucket.ts";
export { type FaultAbort, type FaultDecision, FaultInjector } from "./fault_injector.ts";
export { Fallback } from "./fallback.ts";
export {
  type BreakerState,
  CircuitBreaker,
  type CircuitBreakerDeps,
  type CircuitBreakerSnapshot,
} from "./circuit_breaker.ts";
export {
  type EjectionReason,
  OutlierDetector,
  type OutlierDetectorDeps,
  type OutlierOutcome,
  type OutlierState,
} from "./outlier_detector.ts";
export {
  ejectionTimeMs,
  mayEject,
  nextEjectionMultiplier,
  successRateThreshold,
} from "./outlier_math.ts";
