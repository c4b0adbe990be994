import type { Timer } from "../../core/clock.ts";
import type { TimerWheel } from "../../core/timer_wheel.ts";
import { UpstreamError } from "../upstream_error.ts";
import type { Body } from "./body.ts";

/**
 * A response body that must end by a deadline: the route timeout and `grpc-timeout` bound
 * the whole exchange, not only the wait for the response head. When the deadline passes
 * first, the upstream body is cancelled and `read` throws an `upstream_timeout`
 * `UpstreamError`, so the downstream side can end the response as failed (for gRPC, with
 * DEADLINE_EXCEEDED trailers).
 */
export class DeadlineBody implements Body {
  readonly #inner: Body;
  readonly #deadline: number;
  readonly #wheel: TimerWheel;
  readonly #what: string;
  readonly #limitMs: number;
  #timer: Timer | null = null;
  #expired: UpstreamError | null = null;

  /**
   * The timer is armed only when a read has to wait: a response that is already in memory
   * (the common small response) costs no timer at all.
   *
   * @param inner the upstream response body
   * @param deadline the monotonic time by which the body must have ended
   * @param wheel schedules the deadline
   * @param what names the deadline in the error, e.g. "route timeout"
   * @param limitMs the deadline's full length, for the error message
   */
  constructor(inner: Body, deadline: number, wheel: TimerWheel, what: string, limitMs: number) {
    this.#inner = inner;
    this.#deadline = deadline;
    this.#wheel = wheel;
    this.#what = what;
    this.#limitMs = limitMs;
  }

  #arm(): void {
    const inner = this.#inner;
    this.#timer = this.#wheel.schedule(Math.max(0, this.#deadline - this.#wheel.now()), () => {
      this.#expired = new UpstreamError(
        "upstream_timeout",
        `The response did not complete within the ${this.#what} of ${Math.round(this.#limitMs)} ms`,
      );
      inner.cancel();
    });
  }

  get length(): number {
    return this.#inner.length;
  }

  get done(): boolean {
    return this.#inner.done;
  }

  takeBuffered(): Uint8Array {
    return this.#inner.takeBuffered();
  }

  async read(): Promise<Uint8Array | null> {
    if (this.#expired) throw this.#expired;
    if (this.#inner.done) {
      this.#timer?.cancel();
      return null;
    }
    if (this.#timer === null) this.#arm();
    let chunk: Uint8Array | null;
    try {
      chunk = await this.#inner.read();
    } catch (err) {
      throw this.#expired ?? err;
    }
    if (this.#expired) throw this.#expired;
    if (chunk === null) this.#timer!.cancel();
    return chunk;
  }

  trailers(): string[] | null {
    return this.#inner.trailers();
  }

  cancel(): void {
    this.#timer?.cancel();
    this.#inner.cancel();
  }
}
