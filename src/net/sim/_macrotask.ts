/**
 * Yields to the runtime's macrotask queue through a `MessageChannel` (a few µs, where
 * `setTimeout(0)` costs milliseconds). Awaiting `yield()` lets every pending microtask run
 * first, so async code resumed by a simulator event runs at that event's virtual time.
 * Call `close()` when done: an open port keeps the process alive.
 */
export class Macrotask {
  readonly #channel = new MessageChannel();
  #resolve: (() => void) | null = null;

  constructor() {
    this.#channel.port1.onmessage = () => {
      const r = this.#resolve;
      this.#resolve = null;
      r?.();
    };
  }

  /** Resolves once the macrotask queue comes round. */
  yield(): Promise<void> {
    return new Promise((resolve) => {
      this.#resolve = resolve;
      this.#channel.port2.postMessage(null);
    });
  }

  /** Releases the channel; idempotent. */
  close(): void {
    this.#channel.port1.close();
    this.#channel.port2.close();
  }
}
