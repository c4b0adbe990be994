import { type Clock, sleepOn, type Timer } from "../../core/clock.ts";
import type { NodeState, SimHost } from "./_sim_host.ts";

/**
 * One simulated node's `Clock`: time is the network's virtual time, and timers are events
 * on the network's queue. While the node is stalled its timers fire late (when the stall
 * ends, in order); once it is killed or restarted they never fire.
 */
export class SimClock implements Clock {
  readonly #host: SimHost;
  readonly #node: NodeState;
  readonly #gen: number;

  /** Made by `SimNetwork`; not meant to be constructed directly. */
  constructor(host: SimHost, node: NodeState, gen: number) {
    this.#host = host;
    this.#node = node;
    this.#gen = gen;
  }

  /** `startMs` of the network plus virtual time. */
  now(): number {
    return this.#host.startMs + this.#host.now;
  }

  /** Virtual time in ms since the network started. */
  monotonic(): number {
    return this.#host.now;
  }

  /** Schedules `fn` on the network's queue `ms` from now (at least 0). */
  setTimer(fn: () => void, ms: number): Timer {
    const host = this.#host;
    return host.callAt(this.#node, this.#gen, host.now + Math.max(0, ms), fn);
  }

  /** Resolves after `ms` of virtual time, or rejects with the signal's reason. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }
}
