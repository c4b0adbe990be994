/**
 * Resilience arithmetic: retry decisions, backoff, budgets.
 * @module
 */
export { backoffDelay } from "./backoff.ts";
export { retryAllowed } from "./retry_budget.ts";
export { IDEMPOTENT, retriableFailure, retriableStatus } from "./retry_policy.ts";
