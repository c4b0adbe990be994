import type { SimEvent } from "./sim_event.ts";

/**
 * A binary min-heap of `SimEvent`s ordered by `(at, seq)`. `seq` values are unique, so the
 * order is total and the same on every run.
 */
export class EventQueue {
  readonly #heap: SimEvent[] = [];

  /** Number of queued events, cancelled ones included. */
  get size(): number {
    return this.#heap.length;
  }

  /** The earliest event without removing it, or undefined when empty. */
  peek(): SimEvent | undefined {
    return this.#heap[0];
  }

  /** Adds an event. */
  push(ev: SimEvent): void {
    const h = this.#heap;
    let i = h.length;
    h.push(ev);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p];
      if (!before(ev, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = ev;
  }

  /** Removes and returns the earliest event, or undefined when empty. */
  pop(): SimEvent | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    const n = h.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(h[r], h[l]) ? r : l;
      if (!before(h[c], last)) break;
      h[i] = h[c];
      i = c;
    }
    h[i] = last;
    return top;
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
