import { BroadcastQueue } from "./broadcast_queue.ts";
import type { GossipMessage } from "./messages.ts";
import type { NodeContext } from "./_node_context.ts";
import { retransmitLimit } from "./suspicion.ts";

/** Packets and bytes sent of one kind. */
export interface SentCount {
  packets: number;
  bytes: number;
}

/**
 * SWIM's dissemination component: the queue of membership updates, piggybacked on every
 * packet sent and pushed by the dedicated gossip round, and the counts of what went out.
 */
export class Dissemination {
  readonly #ctx: NodeContext;
  readonly #queue: BroadcastQueue;
  /** Packets and bytes sent, by the first message's type (`gossip` for gossip rounds). */
  readonly sent = new Map<string, SentCount>();

  constructor(ctx: NodeContext) {
    this.#ctx = ctx;
    this.#queue = new BroadcastQueue(() =>
      retransmitLimit(ctx.config.retransmitMult, ctx.liveCount())
    );
  }

  /** Queues `msg` for gossip under `key`, replacing what is queued under the same key. */
  rebroadcast(key: string, msg: GossipMessage): void {
    this.#queue.enqueue(key, this.#ctx.deps.codec.encode(msg));
  }

  /** The dedicated gossip round: queued updates to a few random members. */
  gossipRound(): void {
    const ctx = this.#ctx;
    if (this.#queue.size === 0) return;
    for (const to of ctx.order.pick(ctx.config.gossipNodes, new Set())) {
      const parts = this.#piggyback(0);
      if (parts.length === 0) return;
      this.sendParts(ctx.members.get(to)!.info.address, parts, "gossip");
    }
  }

  /** Sends `msg` to `to` with as many queued updates as fit beside it. */
  send(to: string, msg: GossipMessage): void {
    const c = this.#ctx.deps.codec;
    const first = c.encode(msg);
    const parts = [first, ...this.#piggyback(first.length + c.partOverhead)];
    this.sendParts(to, parts, msg.type);
  }

  /** Packs encoded messages into one packet to `to`, counted under `kind`. */
  sendParts(to: string, parts: Uint8Array[], kind: string): void {
    const packet = this.#ctx.deps.codec.pack(parts);
    const s = this.sent.get(kind) ?? { packets: 0, bytes: 0 };
    s.packets++;
    s.bytes += packet.length;
    this.sent.set(kind, s);
    this.#ctx.deps.transport.send(to, packet);
  }

  /** Queued updates that fit next to `used` bytes of a packet. */
  #piggyback(used: number): Uint8Array[] {
    const { codec: c, transport } = this.#ctx.deps;
    const budget = transport.maxPacketBytes - c.packetOverhead - used;
    return this.#queue.take(budget, c.partOverhead);
  }
}
