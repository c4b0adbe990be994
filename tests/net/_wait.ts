import type { Transport } from "../../src/net/transport.ts";
import { within as harnessWithin } from "../_harness/wait.ts";

/** Settles like `p`, or rejects naming `what` when `ms` of real time pass first. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return harnessWithin(what, p, ms);
}

/** A packet as a test saw it. */
export interface Received {
  from: string;
  data: Uint8Array;
}

/** Collects a transport's packets; `next()` waits for the next one with a deadline. */
export class Inbox {
  readonly packets: Received[] = [];
  #read = 0;
  #wake: (() => void) | null = null;

  constructor(transport: Transport) {
    transport.onPacket((from, data) => {
      this.packets.push({ from, data });
      this.#wake?.();
    });
  }

  /** The next packet not yet taken, waiting up to `ms` of real time. */
  async next(ms = 5000): Promise<Received> {
    while (this.#read >= this.packets.length) {
      await within(new Promise<void>((r) => this.#wake = r), ms, "a packet");
    }
    return this.packets[this.#read++];
  }
}

/** Bytes `0, 1, 2, …` (mod 256) of length `n`, offset by `seed`. */
export function pattern(n: number, seed = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}
