/**
 * How a gossip node talks to its peers, split the way memberlist splits it: best-effort
 * packets (UDP: may be lost, duplicated, reordered, late) and reliable message streams (TCP:
 * for push-pull state sync and joins). The protocol core sees only this interface; the real
 * UDP/TCP adapter and the seeded network simulator both implement it and pass one
 * conformance suite.
 */
export interface Transport {
  /** This node's address as peers reach it: `host:port` for UDP/TCP, a node name in the simulator. */
  readonly address: string;

  /**
   * Sends one packet to `to`, best effort: it may be lost, duplicated, reordered or delayed.
   * Never throws for network conditions (an unreachable peer is a lost packet); throws
   * `RangeError` for a packet larger than `maxPacketBytes`.
   */
  send(to: string, packet: Uint8Array): void;

  /** Largest packet `send` accepts (the path MTU budget for one datagram). */
  readonly maxPacketBytes: number;

  /** Sets the handler for arriving packets (one handler; a later call replaces it). */
  onPacket(handler: (from: string, packet: Uint8Array) => void): void;

  /**
   * Opens a reliable, ordered message stream to `to`.
   *
   * @throws (as a rejection) when the peer cannot be reached within `timeoutMs`
   */
  connect(to: string, timeoutMs: number): Promise<MessageStream>;

  /** Sets the handler for streams peers open to this node. */
  onStream(handler: (from: string, stream: MessageStream) => void): void;

  /** Stops receiving and sending, closes open streams; idempotent. */
  close(): Promise<void>;
}

/** A reliable, ordered, message-framed channel between two nodes. */
export interface MessageStream {
  /** Sends one whole message (framing is the transport's job). Rejects once the stream failed. */
  send(message: Uint8Array): Promise<void>;
  /** The next whole message, or null once the peer closed the stream. */
  receive(timeoutMs: number): Promise<Uint8Array | null>;
  /** Closes both directions; idempotent. */
  close(): void;
}
