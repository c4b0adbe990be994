import type { Rng } from "../../core/mod.ts";
import type { Host } from "./host.ts";
import type { LoadBalancer } from "./load_balancer.ts";
import { copyHosts, effectiveAvoid, sameHosts } from "./_host_list.ts";
import { smoothWeightedCycle, smoothWeightedStep } from "./smooth_weighted_cycle.ts";

/**
 * Smooth weighted round robin, as nginx does it: over each cycle every host is picked
 * exactly in proportion to its weight, and picks are spread evenly (weights 5, 1, 1 give
 * a a b a c a a, never a a a a a b c).
 *
 * The cycle is precomputed, so a pick is O(1). Weights that are not integers, or whose
 * cycle would exceed `MAX_CYCLE_LENGTH` after dividing by their common divisor (such as 1
 * and 999,999), fall back to nginx's O(n) step per pick.
 *
 * After an `update()` that changes the hosts, a precomputed cycle starts at a random
 * position, so that a fleet of sidecars does not send its first requests to the same
 * host. An `update()` with the same hosts and weights keeps the position.
 *
 * A host in `avoid` gives its turn to the next host in the cycle.
 *
 * @example
 * ```ts
 * const lb = new RoundRobinBalancer({ rng: mathRng });
 * lb.update(hosts);
 * const host = lb.pick();
 * ```
 */
export class RoundRobinBalancer implements LoadBalancer {
  readonly #rng: Rng;
  #hosts: Host[] = [];
  #weights: number[] = [];
  #cycle: Uint32Array | undefined;
  #cursor = 0;
  #current = new Float64Array(0);
  #total = 0;
  #skip: ReadonlySet<Host> | undefined;
  readonly #skipIndex = (i: number) => this.#skip!.has(this.#hosts[i]);

  /** Creates an empty balancer; `deps.rng` chooses where each new cycle starts. */
  constructor(deps: { rng: Rng }) {
    this.#rng = deps.rng;
  }

  /** See `LoadBalancer.update`; O(cycle length × hosts) when the hosts changed. */
  update(hosts: readonly Host[]): void {
    if (sameHosts(this.#hosts, this.#weights, hosts)) return;
    const list = copyHosts(hosts);
    const weights = list.map((h) => h.weight);
    const cycle = smoothWeightedCycle(weights);
    this.#hosts = list;
    this.#weights = weights;
    this.#cycle = cycle;
    this.#cursor = cycle ? Math.floor(this.#rng() * cycle.length) : 0;
    this.#current = new Float64Array(cycle ? 0 : list.length);
    this.#total = weights.reduce((a, b) => a + b, 0);
  }

  /** See `LoadBalancer.pick`; the hash key is ignored. */
  pick(_hashKey?: string, avoid?: ReadonlySet<Host>): Host | undefined {
    const hosts = this.#hosts;
    if (hosts.length <= 1) return hosts[0];
    const skip = effectiveAvoid(hosts, avoid);
    const cycle = this.#cycle;
    if (cycle === undefined) {
      this.#skip = skip;
      const i = smoothWeightedStep(
        this.#weights,
        this.#current,
        this.#total,
        skip && this.#skipIndex,
      );
      this.#skip = undefined;
      return hosts[i];
    }
    // A non-avoided host is somewhere in the cycle: every host appears in it.
    let cursor = this.#cursor;
    let host = hosts[cycle[cursor]];
    while (skip !== undefined && skip.has(host)) {
      cursor = cursor + 1 === cycle.length ? 0 : cursor + 1;
      host = hosts[cycle[cursor]];
    }
    this.#cursor = cursor + 1 === cycle.length ? 0 : cursor + 1;
    return host;
  }
}
