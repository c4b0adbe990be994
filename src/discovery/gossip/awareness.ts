/**
 * Lifeguard's local health: a node that misses acks, gets nacks or has to refute suspicions
 * about itself is probably the slow one (CPU starved, GC, a bad link), so it probes less
 * eagerly and waits longer before suspecting others. Combined with the load factor of
 * skiff's design (α = max(0.5, 1 − cpu/2)), it scales the probe interval and timeout:
 *
 * ```
 * scaled = base × (1 + health) / α
 * ```
 *
 * A healthy, idle node (health 0, α 1) uses the base values; a node at full CPU doubles them
 * (α 0.5); each point of bad health adds one more base period. Both factors only ever
 * lengthen the timings, so a struggling node accuses others less, never more.
 */
export class Awareness {
  readonly #max: number;
  #score = 0;

  /** @param max the highest health score (Lifeguard uses 8) */
  constructor(max = 8) {
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`Awareness needs a maximum score of at least 1, got ${max}`);
    }
    this.#max = max;
  }

  /** The current score: 0 is healthy, `max` the worst. */
  get score(): number {
    return this.#score;
  }

  /**
   * Moves the score by `delta` (+1 for a missed ack, a missing nack or a refutation; -1 for a
   * probe that went well), clamped to 0 … max.
   */
  apply(delta: number): void {
    this.#score = Math.min(this.#max, Math.max(0, this.#score + delta));
  }

  /** `baseMs` scaled by health and by the load factor `alpha` (0.5 … 1). */
  scale(baseMs: number, alpha = 1): number {
    return (baseMs * (this.#score + 1)) / clampAlpha(alpha);
  }
}

/**
 * The load factor of skiff's design: α = max(0.5, 1 − cpu/2), with `cpu` the node's CPU
 * utilisation from 0 to 1. A busy node probes and times out up to twice as slowly.
 */
export function loadFactor(cpu: number): number {
  if (!Number.isFinite(cpu)) return 1;
  return clampAlpha(1 - Math.min(1, Math.max(0, cpu)) / 2);
}

function clampAlpha(alpha: number): number {
  return Math.min(1, Math.max(0.5, Number.isFinite(alpha) ? alpha : 1));
}
