import type { Rng } from "../../core/rng.ts";
import type { BurstLoss } from "./link_conditions.ts";

/**
 * The Gilbert–Elliott state of one directed link. `lose()` advances the two-state chain by
 * one packet and says whether that packet is lost.
 */
export class BurstState {
  /** True while the link is in the bad (lossy) state. */
  bad = false;

  /** Moves the chain one packet on and decides that packet's fate. */
  lose(p: Required<BurstLoss>, rng: Rng): boolean {
    this.bad = this.bad ? rng() >= p.exitBad : rng() < p.enterBad;
    return rng() < (this.bad ? p.lossBad : p.lossGood);
  }
}
