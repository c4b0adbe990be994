import type { Timer } from "../../core/clock.ts";
import type { H2ConnectionOptions } from "./_h2_connection_options.ts";

/** What an `IdleTimer` reads from its connection's options, each time it is armed. */
type IdleOptions = Pick<H2ConnectionOptions, "wheel" | "idleTimeoutMs">;

/**
 * The idle timeout of one connection: armed while no stream is open, it shuts the
 * connection down once it fires. Once stopped (the connection closed) it never arms again.
 */
export class IdleTimer {
  readonly #o: IdleOptions;
  readonly #owner: { shutdown(): void };
  #idleTimer: Timer | null = null;
  #stopped = false;

  /**
   * @param o the connection's options: its timer wheel and idle timeout
   * @param owner the connection, shut down when the timeout fires
   */
  constructor(o: IdleOptions, owner: { shutdown(): void }) {
    this.#o = o;
    this.#owner = owner;
  }

  /** Starts the timeout over: the connection has no open stream. */
  arm(): void {
    const ms = this.#o.idleTimeoutMs ?? 0;
    if (ms <= 0 || this.#stopped) return;
    if (this.#idleTimer) this.#o.wheel.reschedule(this.#idleTimer, ms);
    else this.#idleTimer = this.#o.wheel.schedule(ms, () => this.#owner.shutdown());
  }

  /** Cancels the timeout: a stream opened. */
  disarm(): void {
    this.#idleTimer?.cancel();
  }

  /** Cancels the timeout for good: the connection closed. */
  stop(): void {
    this.#stopped = true;
    this.#idleTimer?.cancel();
  }
}
