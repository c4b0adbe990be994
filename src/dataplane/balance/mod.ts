/**
 * Load balancing: the `Host` view of an endpoint with its live counters and latency
 * estimate, the `LoadBalancer` interface, its four policies (smooth weighted round robin,
 * least request and peak EWMA by power of two choices, ring hash), the label subsets a
 * cluster balances over separately, and the pure arithmetic they rest on.
 * @module
 */
export { Host, type HostOptions, type HostSnapshot } from "./host.ts";
export { EndpointSubset } from "./endpoint_subset.ts";
export type { LoadBalancer } from "./load_balancer.ts";
export {
  createLoadBalancer,
  type LoadBalancerDeps,
  type LoadBalancerPolicy,
} from "./create_load_balancer.ts";
export { RoundRobinBalancer } from "./round_robin.ts";
export { LeastRequestBalancer } from "./least_request.ts";
export { PeakEwmaBalancer } from "./peak_ewma.ts";
export { RingHashBalancer } from "./ring_hash.ts";
export { decayedEwma, DEFAULT_EWMA_DECAY_MS, DEFAULT_EWMA_PENALTY_MS, peakEwma } from "./ewma.ts";
export { fmix32, fnv1a32, FNV1A32_OFFSET, hash32 } from "./hash32.ts";
export {
  DEFAULT_MAX_RING_SIZE,
  DEFAULT_MIN_HOST_POINTS,
  DEFAULT_MIN_RING_SIZE,
  ringPointCounts,
  type RingSizeOptions,
} from "./ring_point_counts.ts";
export {
  MAX_CYCLE_LENGTH,
  smoothWeightedCycle,
  smoothWeightedStep,
} from "./smooth_weighted_cycle.ts";
