/**
 * A one-way "start draining" signal shared by a listener and every connection it serves:
 * stop taking new work, finish what is in flight. Lighter than an `AbortSignal` (no events):
 * subscribing costs one Set entry and unsubscribing removes it, so a connection can follow
 * its listener's drain for its whole life.
 *
 * @example
 * ```ts
 * const drain = new Drain();
 * const off = drain.onDrain(() => conn.closeWhenIdle());
 * drain.start(); // every subscriber runs once; later subscribers run at once
 * off();
 * ```
 */
export class Drain {
  #draining = false;
  #fns = new Set<() => void>();

  /** True once `start()` was called. */
  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Runs `fn` when the drain starts (at once, synchronously, if it already has).
   *
   * @returns a function that unsubscribes `fn`
   */
  onDrain(fn: () => void): () => void {
    if (this.#draining) {
      fn();
      return () => {};
    }
    this.#fns.add(fn);
    return () => this.#fns.delete(fn);
  }

  /** Starts the drain (idempotent): every subscriber runs once, in subscription order. */
  start(): void {
    if (this.#draining) return;
    this.#draining = true;
    const fns = [...this.#fns];
    this.#fns.clear();
    for (const fn of fns) fn();
  }
}
