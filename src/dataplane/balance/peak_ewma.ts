import type { Rng } from "../../core/mod.ts";
import type { Host } from "./host.ts";
import type { LoadBalancer } from "./load_balancer.ts";
import { decayedEwma } from "./ewma.ts";
import { PowerOfTwoChoices } from "./_power_of_two.ts";

/**
 * Latency-aware balancing as linkerd does it: power of two choices with cost
 * `ewma × (active + 1)`, where `ewma` is the host's peak-EWMA latency estimate decayed
 * toward 0 since its last sample (see `Host.ewmaAt`). Slow or busy hosts get less traffic
 * at once; a slow host's estimate fades while it gets no traffic, so it is probed again.
 * Weights only bias which two hosts are drawn. O(1) per pick.
 *
 * Decay scales both costs alike, so comparing them at the later of the two hosts' last
 * samples orders them as at any later time: no clock is read on the hot path. This needs
 * every host to decay alike, so `update()` requires one `decayMs` for all hosts.
 *
 * @example
 * ```ts
 * const lb = new PeakEwmaBalancer({ rng: mathRng });
 * lb.update(hosts);
 * const host = lb.pick();
 * ```
 */
export class PeakEwmaBalancer implements LoadBalancer {
  readonly #p2c: PowerOfTwoChoices;

  /** Creates an empty balancer drawing candidates with `deps.rng`. */
  constructor(deps: { rng: Rng }) {
    this.#p2c = new PowerOfTwoChoices(deps.rng, lowerCost);
  }

  /**
   * See `LoadBalancer.update`.
   *
   * @throws {TypeError} when two hosts share a key
   * @throws {RangeError} when the hosts' `decayMs` differ
   */
  update(hosts: readonly Host[]): void {
    const decay = hosts[0]?.decayMs;
    const odd = hosts.find((h) => h.decayMs !== decay);
    if (odd !== undefined) {
      throw new RangeError(
        `Host "${odd.key}" decays over ${odd.decayMs} ms, others over ${decay} ms: ` +
          "give all hosts of a cluster the same decayMs",
      );
    }
    this.#p2c.update(hosts);
  }

  /** See `LoadBalancer.pick`; the hash key is ignored. */
  pick(_hashKey?: string, avoid?: ReadonlySet<Host>): Host | undefined {
    return this.#p2c.pick(avoid);
  }
}

function lowerCost(first: Host, second: Host): Host {
  let a = first.ewmaMs * (first.active + 1);
  let b = second.ewmaMs * (second.active + 1);
  const gap = second.sampledAt - first.sampledAt;
  if (gap > 0) a = decayedEwma(a, gap, first.decayMs);
  else b = decayedEwma(b, -gap, first.decayMs);
  return b < a ? second : first;
}
