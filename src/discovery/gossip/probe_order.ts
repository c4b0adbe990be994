import type { Rng } from "../../core/rng.ts";

/**
 * Which member to probe next: SWIM's shuffled round-robin. Every member is probed once per
 * round, in an order shuffled anew at the start of each round, so a failed member is found
 * within at most two rounds (unlike picking at random, which has no bound). A member that
 * joins mid-round goes to a random place among those not probed yet.
 */
export class ProbeOrder {
  readonly #rng: Rng;
  #order: string[] = [];
  #next = 0;
  readonly #members = new Set<string>();

  /** @param rng the node's random source (seeded in the simulator) */
  constructor(rng: Rng) {
    this.#rng = rng;
  }

  /** Members to probe. */
  get size(): number {
    return this.#members.size;
  }

  /** Adds a member to probe (no effect when present). */
  add(name: string): void {
    if (this.#members.has(name)) return;
    this.#members.add(name);
    // A random slot among the members not yet probed this round.
    const at = this.#next + Math.floor(this.#rng() * (this.#order.length - this.#next + 1));
    this.#order.splice(at, 0, name);
  }

  /** Stops probing a member (dead, left). */
  remove(name: string): void {
    if (!this.#members.delete(name)) return;
    const i = this.#order.indexOf(name);
    if (i < 0) return;
    this.#order.splice(i, 1);
    if (i < this.#next) this.#next--;
  }

  /** The member to probe now, or undefined when there is none. */
  next(): string | undefined {
    if (this.#members.size === 0) return undefined;
    if (this.#next >= this.#order.length) {
      this.#shuffle();
      this.#next = 0;
    }
    return this.#order[this.#next++];
  }

  /** `k` distinct members other than `exclude`, chosen at random (for indirect probes). */
  pick(k: number, exclude: ReadonlySet<string>): string[] {
    const pool = this.#order.filter((m) => !exclude.has(m));
    const out: string[] = [];
    for (let i = 0; i < k && pool.length > 0; i++) {
      const j = Math.floor(this.#rng() * pool.length);
      out.push(pool[j]);
      pool[j] = pool[pool.length - 1];
      pool.pop();
    }
    return out;
  }

  #shuffle(): void {
    const a = this.#order;
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.#rng() * (i + 1));
      [a[i], a[j]] = [a[j], a[i]];
    }
  }
}
