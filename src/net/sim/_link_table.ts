import { BurstState } from "./burst_state.ts";
import {
  type LinkConditions,
  resolveConditions,
  type ResolvedConditions,
} from "./link_conditions.ts";
import type { NodeState } from "./_sim_host.ts";

const LINK_KEY = "\u0000";

/**
 * The conditions of every directed link of a `SimNetwork`: the defaults, the links set on
 * their own, and the Gilbert–Elliott state of each link with bursty loss.
 */
export class LinkTable {
  readonly #links = new Map<string, ResolvedConditions>();
  readonly #bursts = new Map<string, BurstState>();
  #defaults: ResolvedConditions;

  /** Makes a table where every link has `defaults`. */
  constructor(defaults: LinkConditions) {
    this.#defaults = resolveConditions(defaults);
  }

  /** Sets the conditions of every link that has none of its own. */
  setDefaults(conditions: LinkConditions): void {
    this.#defaults = resolveConditions(conditions);
  }

  /**
   * Sets the conditions of the directed link `from → to` (both ways with `bothWays`),
   * filled in from the defaults as they are now; `null` returns the link to the defaults.
   */
  setLink(from: string, to: string, conditions: LinkConditions | null, bothWays = false): void {
    const key = from + LINK_KEY + to;
    if (conditions === null) this.#links.delete(key);
    else this.#links.set(key, resolveConditions(conditions, this.#defaults));
    this.#bursts.delete(key);
    if (bothWays) this.setLink(to, from, conditions);
  }

  /** The conditions of the directed link `from → to`. */
  conditions(from: NodeState, to: NodeState): ResolvedConditions {
    if (this.#links.size === 0) return this.#defaults;
    return this.#links.get(from.name + LINK_KEY + to.name) ?? this.#defaults;
  }

  /** The burst state of the directed link `from → to`, made on first use. */
  burst(from: NodeState, to: NodeState): BurstState {
    const key = from.name + LINK_KEY + to.name;
    let s = this.#bursts.get(key);
    if (!s) this.#bursts.set(key, s = new BurstState());
    return s;
  }
}
