import { create, toBinary } from "@bufbuild/protobuf";
import { CompoundSchema, type Message } from "../_gen/gossip_pb.ts";
import { type EncodeOptions, framePacket } from "./_frame_packet.ts";

export type { EncodeOptions } from "./_frame_packet.ts";

/**
 * Encodes `messages` into one gossip packet: the header (magic, version, flags, length,
 * cluster id, key id, send time, nonce), the protobuf `Compound` body — deflated and
 * AES-GCM-encrypted when asked — and a CRC32 of everything before it. The layout is in
 * proto/README.md. Size it with {@linkcode packMessages} first: this function does not split.
 *
 * @param messages the messages, in order
 * @param options cluster, clock, keys, compression
 * @returns the packet bytes
 * @throws {RangeError} when the clock is not in 0 .. 2^48-1 ms
 *
 * @example
 * ```ts
 * const ping = create(MessageSchema, { kind: { case: "ping", value: { seq: 1, target: "b" } } });
 * const bytes = encodePacket([ping], { cluster: "prod", clock: systemClock });
 * ```
 */
export function encodePacket(
  messages: readonly Message[],
  options: EncodeOptions,
): Uint8Array<ArrayBuffer> {
  return framePacket(
    toBinary(CompoundSchema, create(CompoundSchema, { messages: messages as Message[] })),
    options,
  );
}
