import { TimeoutError } from "../../core/abort.ts";
import type { Timer } from "../../core/clock.ts";
import type { MessageStream } from "../transport.ts";
import { sampleDelay } from "./link_conditions.ts";
import type { Failable, NodeState, SimHost } from "./_sim_host.ts";
import type { SimClock } from "./sim_clock.ts";

interface Waiter {
  resolve(m: Uint8Array | null): void;
  reject(err: Error): void;
  timer: Timer;
}

/**
 * One end of a simulated stream: reliable and ordered like TCP. Each message takes one
 * link delay drawn from the link's conditions (never lost), but never overtakes an earlier
 * one. A partition between the ends or a kill of either node fails both ends at once.
 */
export class SimStream implements MessageStream, Failable {
  /** The other end; set right after both are made. */
  peer!: SimStream;
  readonly #host: SimHost;
  readonly #node: NodeState;
  readonly #gen: number;
  readonly #clock: SimClock;
  readonly #queue: Uint8Array[] = [];
  readonly #waiters: Waiter[] = [];
  #lastArrival = -Infinity;
  #closed = false;
  #peerClosed = false;
  #error: Error | null = null;

  /** Made by `SimNetwork`; not meant to be constructed directly. */
  constructor(host: SimHost, node: NodeState, gen: number, clock: SimClock) {
    this.#host = host;
    this.#node = node;
    this.#gen = gen;
    this.#clock = clock;
    node.streams.add(this);
  }

  /** The node at the other end. */
  get peerNode(): NodeState {
    return this.peer.#node;
  }

  /** Queues `message` for the peer; rejects once the stream is closed or failed. */
  send(message: Uint8Array): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#closed) {
      return Promise.reject(new Error("The stream is closed; open a new one with connect()"));
    }
    if (this.#peerClosed) {
      return Promise.reject(new Error(`The peer "${this.peer.#node.name}" closed the stream`));
    }
    const max = this.#host.maxMessageBytes;
    if (message.length > max) {
      return Promise.reject(
        new RangeError(
          `Stream message of ${message.length} bytes exceeds the limit of ${max}; split it or raise maxMessageBytes`,
        ),
      );
    }
    const copy = message.slice();
    this.#transmit(() => this.peer.#arrive(copy));
    return Promise.resolve();
  }

  /** The next message, null after the peer closed, or a `TimeoutError` rejection. */
  receive(timeoutMs: number): Promise<Uint8Array | null> {
    if (this.#queue.length > 0) return Promise.resolve(this.#queue.shift()!);
    if (this.#error) return Promise.reject(this.#error);
    if (this.#closed || this.#peerClosed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: this.#clock.setTimer(() => {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          reject(new TimeoutError("stream receive timeout", timeoutMs));
        }, timeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  /** Closes this end (pending receives get null) and tells the peer; idempotent. */
  close(): void {
    if (this.#closed || this.#error) return;
    this.#closed = true;
    this.#queue.length = 0;
    this.#settle(null);
    this.#node.streams.delete(this);
    this.#transmit(() => this.peer.#arriveClose());
  }

  /** Fails both ends at once: pending and later calls reject with `err`. */
  failBoth(err: Error): void {
    this.#fail(err);
    this.peer.#fail(err);
  }

  #fail(err: Error): void {
    if (this.#error || this.#closed) return;
    this.#error = err;
    this.#queue.length = 0;
    this.#settle(err);
    this.#node.streams.delete(this);
  }

  #transmit(fn: () => void): void {
    const host = this.#host;
    const to = this.peer.#node;
    const at = Math.max(
      host.now + sampleDelay(host.conditions(this.#node, to), host.rng),
      this.#lastArrival,
    );
    this.#lastArrival = at;
    host.callAt(to, this.peer.#gen, at, fn);
  }

  #arrive(message: Uint8Array): void {
    if (this.#closed || this.#error) return;
    const w = this.#waiters.shift();
    if (w) {
      w.timer.cancel();
      w.resolve(message);
    } else this.#queue.push(message);
  }

  #arriveClose(): void {
    this.#peerClosed = true;
    if (this.#closed || this.#error) return;
    this.#settle(null);
  }

  #settle(outcome: Error | null): void {
    for (const w of this.#waiters.splice(0)) {
      w.timer.cancel();
      if (outcome) w.reject(outcome);
      else w.resolve(null);
    }
  }
}
