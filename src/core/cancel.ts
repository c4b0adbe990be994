/**
 * A one-shot cancellation signal, lighter than `AbortController` (no events, no DOM
 * machinery): one allocation and at most one callback. Used on the per-request hot path.
 *
 * @example
 * ```ts
 * const c = new Cancel();
 * c.onCancel(() => conn.close());
 * c.cancel(new TimeoutError("route timeout", 100));
 * ```
 */
export class Cancel {
  /** The reason given to `cancel()`, once cancelled. */
  reason: unknown = undefined;
  #cancelled = false;
  #fn: (() => void) | null = null;

  /** True once `cancel()` was called. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** Sets the callback run on cancellation (replacing any earlier one); runs it at once if already cancelled. */
  onCancel(fn: (() => void) | null): void {
    this.#fn = fn;
    if (fn && this.#cancelled) fn();
  }

  /** Cancels with `reason` (idempotent) and runs the callback. */
  cancel(reason: unknown): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.reason = reason;
    const fn = this.#fn;
    this.#fn = null;
    fn?.();
  }
}
