import type { Rng } from "../../core/mod.ts";
import type { LoadBalancer } from "./load_balancer.ts";
import { LeastRequestBalancer } from "./least_request.ts";
import { PeakEwmaBalancer } from "./peak_ewma.ts";
import { RingHashBalancer } from "./ring_hash.ts";
import { RoundRobinBalancer } from "./round_robin.ts";

/** The balancing policies, as a cluster's `lb_policy` names them. */
export type LoadBalancerPolicy = "round_robin" | "least_request" | "peak_ewma" | "ring_hash";

/** What balancers need from outside. */
export interface LoadBalancerDeps {
  /** Random source (`mathRng` in production, `seededRng` in tests). */
  rng: Rng;
}

/**
 * Creates the balancer for a cluster's `lb_policy`, with default options.
 *
 * @throws {TypeError} for an unknown policy
 * @example
 * ```ts
 * const lb = createLoadBalancer(cluster.lb_policy, { rng: mathRng });
 * ```
 */
export function createLoadBalancer(
  policy: LoadBalancerPolicy,
  deps: LoadBalancerDeps,
): LoadBalancer {
  switch (policy) {
    case "round_robin":
      return new RoundRobinBalancer(deps);
    case "least_request":
      return new LeastRequestBalancer(deps);
    case "peak_ewma":
      return new PeakEwmaBalancer(deps);
    case "ring_hash":
      return new RingHashBalancer(deps);
    default:
      throw new TypeError(
        `Unknown load balancing policy ${JSON.stringify(policy)}: use round_robin, ` +
          "least_request, peak_ewma or ring_hash",
      );
  }
}
