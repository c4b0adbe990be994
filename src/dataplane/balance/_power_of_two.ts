import type { Rng } from "../../core/mod.ts";
import type { Host } from "./host.ts";
import { copyHosts, effectiveAvoid } from "./_host_list.ts";
import { WeightedSampler } from "./_weighted_sampler.ts";

const DRAWS = 3;

/** Returns the better of two hosts, `first` on a tie. */
export type ChooseHost = (first: Host, second: Host) => Host;

/**
 * "Power of two choices", shared by the least-request and peak-EWMA balancers: draws two
 * different hosts at random, in proportion to their weights, and keeps the one `choose`
 * prefers. With equal costs the first draw wins, so an idle cluster is balanced by weight.
 */
export class PowerOfTwoChoices {
  readonly #rng: Rng;
  readonly #choose: ChooseHost;
  readonly #sampler = new WeightedSampler();
  #hosts: Host[] = [];

  constructor(rng: Rng, choose: ChooseHost) {
    this.#rng = rng;
    this.#choose = choose;
  }

  /** See `LoadBalancer.update`. */
  update(hosts: readonly Host[]): void {
    const list = copyHosts(hosts);
    this.#sampler.reset(list.map((h) => h.weight));
    this.#hosts = list;
  }

  /** See `LoadBalancer.pick`. */
  pick(avoid?: ReadonlySet<Host>): Host | undefined {
    const hosts = this.#hosts;
    if (hosts.length <= 1) return hosts[0];
    const skip = effectiveAvoid(hosts, avoid);
    const a = this.#draw(skip, -1);
    const b = this.#draw(skip, a);
    return b < 0 ? hosts[a] : this.#choose(hosts[a], hosts[b]);
  }

  #draw(skip: ReadonlySet<Host> | undefined, not: number): number {
    const sampler = this.#sampler;
    for (let t = 0; t < DRAWS; t++) {
      const i = not < 0 ? sampler.sample(this.#rng) : sampler.sampleOther(this.#rng, not);
      if (i !== not && (skip === undefined || !skip.has(this.#hosts[i]))) return i;
    }
    return sampler.sampleAllowed(this.#rng, this.#hosts, skip, not);
  }
}
