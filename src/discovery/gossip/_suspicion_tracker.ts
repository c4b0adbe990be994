import type { Member, NodeContext } from "./_node_context.ts";
import { minSuspicionTimeout, quorumTimeout, suspicionTimeout, verifyChance } from "./suspicion.ts";

/**
 * The confirmer a suspicion learned from a peer's full state is put down to when only
 * independent confirmations count: the peer may only have heard of it, so it counts for no one.
 */
export const HEARSAY = "";

/** What the suspicion tracker asks of the rest of the node. */
export interface SuspicionHooks {
  /** The suspicion of `m` ran out: declare it dead. */
  expired(m: Member): void;
  /** Probe the suspect `name` ourselves, as an independent observer. */
  verify(name: string): void;
}

/**
 * The suspect → dead timers (Lifeguard's shrinking timeout, and skiff's quorum and
 * verifiers): when a suspicion started, who confirmed it, and when it ends.
 */
export class SuspicionTracker {
  readonly #ctx: NodeContext;
  readonly #hooks: SuspicionHooks;

  constructor(ctx: NodeContext, hooks: SuspicionHooks) {
    this.#ctx = ctx;
    this.#hooks = hooks;
  }

  /**
   * Starts the suspicion of `m`, raised by `from`.
   *
   * @param firstHand heard straight from `from` (not passed on by others)
   */
  start(m: Member, from: string, firstHand = false): void {
    const ctx = this.#ctx;
    const started = ctx.deps.clock.monotonic();
    const confirmers = new Set<string>([from]);
    const timer = ctx.after(this.#deadline(confirmers), () => this.#expired(m));
    m.suspicion = { raisedBy: from, confirmers, started, timer };
    // Someone else's suspicion: maybe check it ourselves, as an independent observer.
    const cfg = ctx.config;
    if (from === ctx.self.name) return;
    if (cfg.firstHandVerify && firstHand) this.#hooks.verify(m.info.name);
    else if (cfg.suspicionVerifiers > 0) {
      const chance = verifyChance(cfg.suspicionVerifiers, ctx.liveCount());
      if (ctx.deps.rng() < chance) this.#hooks.verify(m.info.name);
    }
  }

  /** Counts `from` as confirming the suspicion of `m`; false when it had already. */
  confirm(m: Member, from: string): boolean {
    const s = m.suspicion;
    if (!s || s.confirmers.has(from)) return false;
    s.confirmers.add(from);
    this.#ctx.cancel(s.timer);
    const elapsed = this.#ctx.deps.clock.monotonic() - s.started;
    const left = Math.max(0, this.#deadline(s.confirmers) - elapsed);
    s.timer = this.#ctx.after(left, () => this.#expired(m));
    return true;
  }

  /** Ends the suspicion of `m` (refuted, or settled otherwise). */
  clear(m: Member): void {
    this.#ctx.cancel(m.suspicion?.timer);
    m.suspicion = undefined;
  }

  #expired(m: Member): void {
    if (m.info.state === "suspect") this.#hooks.expired(m);
  }

  #timeout(confirmations: number): number {
    const cfg = this.#ctx.config;
    const n = this.#ctx.liveCount();
    const min = minSuspicionTimeout(cfg.suspicionMult, n, cfg.probeIntervalMs);
    const max = min * cfg.suspicionMaxMult;
    const expected = n - 2 < cfg.suspicionMult - 2 ? 0 : cfg.suspicionMult - 2;
    return suspicionTimeout(min, max, confirmations, expected);
  }

  /** Ms from the start of a suspicion confirmed by `confirmerSet` (hearsay not counted). */
  #deadline(confirmerSet: ReadonlySet<string>): number {
    const cfg = this.#ctx.config;
    const confirmers = confirmerSet.size - (confirmerSet.has(HEARSAY) ? 1 : 0);
    return quorumTimeout(
      this.#timeout(confirmers - 1),
      cfg.suspicionQuorumMs,
      confirmers,
      cfg.suspicionQuorum,
    );
  }
}
