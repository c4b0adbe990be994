/** One update waiting to be piggybacked on outgoing packets. */
interface Pending {
  key: string;
  bytes: Uint8Array;
  transmits: number;
}

/**
 * The updates a node piggybacks on its probes and acks (SWIM's dissemination component): each
 * is sent at most `limit()` times, those sent least often go first, and a newer update about
 * the same subject (same key) replaces an older one still queued — a member's latest state is
 * all that matters.
 *
 * @example
 * ```ts
 * const q = new BroadcastQueue(() => retransmitLimit(4, members.size));
 * q.enqueue("node-7", encodedSuspect);
 * const piggyback = q.take(1400 - headerBytes, 2); // fits the MTU, 2 bytes framing each
 * ```
 */
export class BroadcastQueue {
  readonly #limit: () => number;
  readonly #byKey = new Map<string, Pending>();
  /** Updates by how often they were sent; each bucket in the order its updates entered it. */
  readonly #buckets: Set<Pending>[] = [];

  /** @param limit how many times each update is sent, read at every `take` (it grows with n) */
  constructor(limit: () => number) {
    this.#limit = limit;
  }

  /** Updates waiting. */
  get size(): number {
    return this.#byKey.size;
  }

  /** Queues `bytes` about `key`, replacing what is queued about the same key. */
  enqueue(key: string, bytes: Uint8Array): void {
    this.drop(key);
    const item = { key, bytes, transmits: 0 };
    this.#byKey.set(key, item);
    this.#bucket(0).add(item);
  }

  /** Forgets what is queued about `key` (e.g. the member left for good). */
  drop(key: string): void {
    const old = this.#byKey.get(key);
    if (!old) return;
    this.#byKey.delete(key);
    this.#buckets[old.transmits]?.delete(old);
  }

  /**
   * The updates to piggyback now, within `budget` bytes (each costing its length plus
   * `overhead`), least transmitted first; each taken update counts one transmission and is
   * dropped once it reached the limit. Costs the updates it looks at, not the whole queue
   * (a 1000-member cluster keeps about 1000 updates queued after a mass join).
   */
  take(budget: number, overhead = 0): Uint8Array[] {
    if (this.#byKey.size === 0) return [];
    const limit = this.#limit();
    const out: Uint8Array[] = [];
    const moved: Pending[] = [];
    let left = budget;
    for (let t = 0; t < this.#buckets.length && left > overhead; t++) {
      const bucket = this.#buckets[t];
      if (!bucket) continue;
      for (const item of bucket) {
        const cost = item.bytes.length + overhead;
        if (cost > left) continue; // a smaller one may still fit
        out.push(item.bytes);
        left -= cost;
        bucket.delete(item);
        item.transmits++;
        if (item.transmits >= limit) this.#byKey.delete(item.key);
        else moved.push(item); // re-bucketed after the scan, so it is not taken twice now
        if (left <= overhead) break;
      }
    }
    for (const item of moved) this.#bucket(item.transmits).add(item);
    return out;
  }

  #bucket(transmits: number): Set<Pending> {
    return this.#buckets[transmits] ??= new Set();
  }
}
