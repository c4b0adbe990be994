import type { MessageStream, Transport } from "../transport.ts";
import type { NodeState, SimHost } from "./_sim_host.ts";

/**
 * One simulated node's `Transport`. Its address is the node's name. It stops working when
 * closed, or when its node is killed or restarted (a restart makes a fresh transport).
 */
export class SimTransport implements Transport {
  readonly #host: SimHost;
  readonly #node: NodeState;
  readonly #gen: number;
  #dropped = 0;

  /** Made by `SimNetwork`; not meant to be constructed directly. */
  constructor(host: SimHost, node: NodeState, gen: number) {
    this.#host = host;
    this.#node = node;
    this.#gen = gen;
  }

  /** The node's name. */
  get address(): string {
    return this.#node.name;
  }

  /** The network's packet size limit. */
  get maxPacketBytes(): number {
    return this.#host.maxPacketBytes;
  }

  /** Packets this transport refused to send because it was closed, killed or replaced. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Sends one packet through the simulated network (copied, so the caller may reuse it).
   *
   * @throws {RangeError} when `packet` is larger than `maxPacketBytes`
   */
  send(to: string, packet: Uint8Array): void {
    if (packet.length > this.#host.maxPacketBytes) {
      throw new RangeError(
        `Packet of ${packet.length} bytes exceeds maxPacketBytes (${this.#host.maxPacketBytes}); split it or send it over a stream`,
      );
    }
    if (!this.#node.live(this.#gen)) {
      this.#dropped++;
      return;
    }
    this.#host.sendPacket(this.#node, to, packet);
  }

  /** Sets the packet handler (a later call replaces it). */
  onPacket(handler: (from: string, packet: Uint8Array) => void): void {
    if (this.#node.live(this.#gen)) this.#node.onPacket = handler;
  }

  /** Opens a stream to the node named `to`; rejects after `timeoutMs` when it is unreachable. */
  connect(to: string, timeoutMs: number): Promise<MessageStream> {
    if (!this.#node.live(this.#gen)) {
      return Promise.reject(
        new Error(`Transport "${this.address}" is closed; restart the node for a fresh one`),
      );
    }
    return this.#host.connect(this.#node, this.#gen, to, timeoutMs);
  }

  /** Sets the handler for streams peers open to this node. */
  onStream(handler: (from: string, stream: MessageStream) => void): void {
    if (this.#node.live(this.#gen)) this.#node.onStream = handler;
  }

  /** Closes the node's streams and stops packets to and from it; idempotent. */
  close(): Promise<void> {
    const node = this.#node;
    if (node.live(this.#gen)) {
      node.closed = true;
      node.onPacket = null;
      node.onStream = null;
      for (const s of [...node.streams]) s.close();
    }
    return Promise.resolve();
  }
}
