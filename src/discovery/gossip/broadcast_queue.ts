/** One update waiting to be piggybacked on outgoing packets. */
interface Pending {
  key: string;
  bytes: Uint8Array;
  transmits: number;
  /** Insertion order, to keep the queue's order deterministic among equals. */
  seq: number;
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
  #seq = 0;

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
    this.#byKey.set(key, { key, bytes, transmits: 0, seq: this.#seq++ });
  }

  /** Forgets what is queued about `key` (e.g. the member left for good). */
  drop(key: string): void {
    this.#byKey.delete(key);
  }

  /**
   * The updates to piggyback now, within `budget` bytes (each costing its length plus
   * `overhead`), least transmitted first; each taken update counts one transmission and is
   * dropped once it reached the limit.
   */
  take(budget: number, overhead = 0): Uint8Array[] {
    if (this.#byKey.size === 0) return [];
    const limit = this.#limit();
    const items = [...this.#byKey.values()].sort((a, b) =>
      a.transmits - b.transmits || a.seq - b.seq
    );
    const out: Uint8Array[] = [];
    let left = budget;
    for (const item of items) {
      const cost = item.bytes.length + overhead;
      if (cost > left) continue; // a smaller one may still fit
      out.push(item.bytes);
      left -= cost;
      if (++item.transmits >= limit) this.#byKey.delete(item.key);
    }
    return out;
  }
}
