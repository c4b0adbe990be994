import type { Rng } from "../../core/mod.ts";
import type { Host } from "./host.ts";

/**
 * Draws indexes with probability proportional to their weights in O(1) with one random
 * number (Vose's alias method; a plain uniform draw when all weights are equal).
 */
export class WeightedSampler {
  #n = 0;
  #uniform = true;
  #weights: readonly number[] = [];
  #prob = new Float64Array(0);
  #alias = new Uint32Array(0);

  /** Prepares for drawing from `weights` (each finite and above 0). O(n). */
  reset(weights: readonly number[]): void {
    const n = weights.length;
    this.#n = n;
    this.#weights = weights.slice();
    this.#uniform = weights.every((w) => w === weights[0]);
    if (this.#uniform) return;
    const total = weights.reduce((a, b) => a + b, 0);
    const prob = new Float64Array(n);
    const alias = new Uint32Array(n);
    const scaled = weights.map((w) => (w * n) / total);
    const small: number[] = [];
    const large: number[] = [];
    scaled.forEach((p, i) => (p < 1 ? small : large).push(i));
    while (small.length > 0 && large.length > 0) {
      const s = small.pop()!;
      const l = large.pop()!;
      prob[s] = scaled[s];
      alias[s] = l;
      scaled[l] += scaled[s] - 1;
      (scaled[l] < 1 ? small : large).push(l);
    }
    for (const i of large) prob[i] = 1;
    for (const i of small) prob[i] = 1; // only left over by rounding error
    this.#prob = prob;
    this.#alias = alias;
  }

  /** An index drawn by weight; the sampler must not be empty. */
  sample(rng: Rng): number {
    const x = rng() * this.#n;
    const i = x | 0;
    if (this.#uniform) return i;
    return x - i < this.#prob[i] ? i : this.#alias[i];
  }

  /**
   * An index drawn by weight, different from `not` for sure when weights are equal and
   * usually otherwise (the caller retries). Needs at least two entries.
   */
  sampleOther(rng: Rng, not: number): number {
    if (!this.#uniform) return this.sample(rng);
    const i = (rng() * (this.#n - 1)) | 0;
    return i >= not ? i + 1 : i;
  }

  /**
   * An index drawn by weight among those whose host is not in `avoid` and is not `not`,
   * in O(n): the fallback when drawing and retrying did not find one.
   *
   * @returns the index, or -1 when there is none
   */
  sampleAllowed(
    rng: Rng,
    hosts: readonly Host[],
    avoid: ReadonlySet<Host> | undefined,
    not: number,
  ): number {
    const weights = this.#weights;
    let total = 0;
    for (let i = 0; i < this.#n; i++) {
      if (i !== not && !avoid?.has(hosts[i])) total += weights[i];
    }
    if (total === 0) return -1;
    let r = rng() * total;
    let last = -1;
    for (let i = 0; i < this.#n; i++) {
      if (i === not || avoid?.has(hosts[i])) continue;
      last = i;
      r -= weights[i];
      if (r < 0) return i;
    }
    return last;
  }
}
