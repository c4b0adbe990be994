import { toBinary } from "@bufbuild/protobuf";
import { type Message, MessageSchema } from "../_gen/gossip_pb.ts";
import { messageFieldSize } from "./_compound.ts";
import { packetOverhead } from "./_format.ts";

/** Options of {@linkcode packMessages}. */
export interface PackOptions {
  /**
   * Whether the packets will be encrypted (default true: budgets the 16-byte AES-GCM tag, so
   * the result fits either way).
   */
  encrypted?: boolean;
}

/** The messages split into packets, and those too big for any. */
export interface Packing {
  /** Groups of messages, each fitting one packet of at most `maxBytes`. */
  packets: Message[][];
  /** Messages that alone exceed the budget: send them over a stream (push-pull) instead. */
  oversized: Message[];
}

/**
 * Bytes a message adds to a packet body: its tag in `Compound.messages` (1 byte), its length
 * (a varint) and its encoding.
 *
 * @param message the message
 * @returns the bytes it takes, before compression
 */
export function encodedMessageSize(message: Message): number {
  return messageFieldSize(toBinary(MessageSchema, message).length);
}

/**
 * Splits `messages` into as few packets as it can find (first-fit decreasing: at most 11/9 of
 * the optimum plus one) so that each, encoded by `encodePacket`, is at most `maxBytes` long —
 * the header, CRC32 and (unless `encrypted: false`) the AES-GCM tag included; compression
 * only ever shrinks that. Within a packet, messages keep their given order, and the packet
 * holding the first message comes first, so callers that put urgent messages first (probes,
 * then gossip by fewest transmits) keep that priority. Loses nothing: every message lands in
 * exactly one packet or in `oversized`.
 *
 * @param messages the messages to send
 * @param maxBytes the byte budget of one packet, e.g. 1400 for a UDP datagram under a
 *   1500-byte MTU
 * @param options whether the packets will be encrypted
 * @returns the packets and the messages too large for any
 * @throws {RangeError} when `maxBytes` cannot hold even an empty packet
 *
 * @example
 * ```ts
 * const { packets, oversized } = packMessages(queue, 1400);
 * for (const p of packets) send(encodePacket(p, options));
 * ```
 */
export function packMessages(
  messages: readonly Message[],
  maxBytes: number,
  options: PackOptions = {},
): Packing {
  const overhead = packetOverhead(options.encrypted ?? true);
  if (!Number.isInteger(maxBytes) || maxBytes <= overhead) {
    throw new RangeError(
      `The packet budget must be an integer above the ${overhead}-byte packet overhead, got ` +
        `${maxBytes}; use the path MTU less IP and UDP headers (e.g. 1400)`,
    );
  }
  const room = maxBytes - overhead;
  const sized = messages.map((message, index) => ({
    message,
    index,
    size: encodedMessageSize(message),
  }));
  const oversized = sized.filter((m) => m.size > room);
  const bins: { free: number; items: typeof sized }[] = [];
  const bySize = sized.filter((m) => m.size <= room).sort((a, b) =>
    b.size - a.size || a.index - b.index
  );
  for (const item of bySize) {
    let bin = bins.find((b) => b.free >= item.size);
    if (!bin) bins.push(bin = { free: room, items: [] });
    bin.items.push(item);
    bin.free -= item.size;
  }
  for (const bin of bins) bin.items.sort((a, b) => a.index - b.index);
  bins.sort((a, b) => a.items[0].index - b.items[0].index);
  return {
    packets: bins.map((b) => b.items.map((i) => i.message)),
    oversized: oversized.map((m) => m.message),
  };
}
