import type { Rng } from "../../core/mod.ts";
import type { Host } from "./host.ts";
import type { LoadBalancer } from "./load_balancer.ts";
import { PowerOfTwoChoices } from "./_power_of_two.ts";

/**
 * Least request by power of two choices: draws two different hosts by weight and keeps
 * the one with fewer requests in flight per unit of weight (`active / weight`), the first
 * drawn on a tie. O(1) per pick.
 *
 * @example
 * ```ts
 * const lb = new LeastRequestBalancer({ rng: mathRng });
 * lb.update(hosts);
 * const host = lb.pick();
 * ```
 */
export class LeastRequestBalancer implements LoadBalancer {
  readonly #p2c: PowerOfTwoChoices;

  /** Creates an empty balancer drawing candidates with `deps.rng`. */
  constructor(deps: { rng: Rng }) {
    this.#p2c = new PowerOfTwoChoices(deps.rng, fewerActivePerWeight);
  }

  /** See `LoadBalancer.update`. */
  update(hosts: readonly Host[]): void {
    this.#p2c.update(hosts);
  }

  /** See `LoadBalancer.pick`; the hash key is ignored. */
  pick(_hashKey?: string, avoid?: ReadonlySet<Host>): Host | undefined {
    return this.#p2c.pick(avoid);
  }
}

function fewerActivePerWeight(first: Host, second: Host): Host {
  // second.active / second.weight < first.active / first.weight, without division.
  return second.active * first.weight < first.active * second.weight ? second : first;
}
