import type { Rng } from "../../core/rng.ts";
import type { MessageStream } from "../transport.ts";
import type { ResolvedConditions } from "./link_conditions.ts";
import type { SimEvent } from "./sim_event.ts";

/** Something that can be failed at once (an open simulated stream end). */
export interface Failable {
  /** The node at the other end. */
  readonly peerNode: NodeState;
  /** Fails this end and the peer's at once with `err` (a reset connection). */
  failBoth(err: Error): void;
  /** Closes the end gracefully (the peer reads the end of the stream). */
  close(): void;
}

/** The simulator's record of one named node across restarts. */
export class NodeState {
  /** Bumped by every restart; events and handles of older generations are ignored. */
  gen = 0;
  /** False once killed (until restarted). */
  alive = true;
  /** True once the current generation's transport was closed. */
  closed = false;
  /** Virtual time until which the node is stalled. */
  stalledUntil = -Infinity;
  /** Partition group; nodes in different groups cannot reach each other. */
  group = 0;
  /** The current transport's packet handler. */
  onPacket: ((from: string, packet: Uint8Array) => void) | null = null;
  /** The current transport's stream handler. */
  onStream: ((from: string, stream: MessageStream) => void) | null = null;
  /** Open stream ends owned by the current generation. */
  readonly streams = new Set<Failable>();

  constructor(readonly name: string, readonly index: number) {}

  /** True when the node's current generation is `gen` and it is alive and open. */
  live(gen: number): boolean {
    return this.gen === gen && this.alive && !this.closed;
  }
}

/** What the simulator's transports, streams and clocks need from the network. */
export interface SimHost {
  /** Current virtual time in ms. */
  readonly now: number;
  /** Unix ms that virtual time 0 stands for. */
  readonly startMs: number;
  /** Largest packet a simulated transport accepts. */
  readonly maxPacketBytes: number;
  /** Largest stream message a simulated stream accepts. */
  readonly maxMessageBytes: number;
  /** The network's seeded generator (consumed in event order, so runs repeat). */
  readonly rng: Rng;
  /** Runs `fn` at virtual time `at` on behalf of `node` (gated by its stall and kill state). */
  callAt(node: NodeState, gen: number, at: number, fn: () => void): SimEvent;
  /** Sends one packet (the transport has checked its size and its own state). */
  sendPacket(from: NodeState, to: string, packet: Uint8Array): void;
  /** Opens a stream from `from` to the node named `to`. */
  connect(from: NodeState, gen: number, to: string, timeoutMs: number): Promise<MessageStream>;
  /** The conditions of the directed link `from → to`. */
  conditions(from: NodeState, to: NodeState): ResolvedConditions;
  /** True when `a` and `b` are in the same partition group. */
  reachable(a: NodeState, b: NodeState): boolean;
}
