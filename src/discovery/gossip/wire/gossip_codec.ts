import { toBinary } from "@bufbuild/protobuf";
import type { Clock } from "../../../core/mod.ts";
import { MessageSchema } from "../_gen/gossip_pb.ts";
import type { GossipCodec, GossipMessage, MemberInfo } from "../messages.ts";
import { joinMessages, varintSize } from "./_compound.ts";
import { packetOverhead } from "./_format.ts";
import { framePacket } from "./_frame_packet.ts";
import { fromWire, memberFromWire, stateToWire, toWire } from "./_gossip_mapping.ts";
import { type DecodeFailure, type DecodeOptions, decodePacket } from "./decode_packet.ts";
import type { EncodeOptions } from "./encode_packet.ts";
import type { Keyring } from "./keyring.ts";
import type { ReplayGuard } from "./replay_guard.ts";

/** Options of {@linkcode protobufCodec}. */
export interface ProtobufCodecOptions {
  /** The cluster name: written into every packet; packets of another cluster are dropped. */
  cluster: string;
  /** This node's clock: packets carry its `now()` as their send time (for `replay`). */
  clock: Pick<Clock, "now">;
  /**
   * Encrypts every packet with AES-GCM under the primary key, and accepts only packets
   * encrypted with one of its keys (plaintext is dropped as `not_encrypted`).
   */
  keyring?: Keyring;
  /**
   * With a keyring, still accept plaintext packets (default false): only while a running
   * cluster is switched to encryption, node by node.
   */
  acceptPlaintext?: boolean;
  /** Drops packets outside its window or seen before; useful only with a keyring. */
  replay?: ReplayGuard;
  /** Deflate packet bodies when that makes them smaller (default false). */
  compress?: boolean;
  /**
   * Fills the nonce of each packet (default `crypto.getRandomValues`). Must be a cryptographic
   * generator with a keyring; a seeded one suits simulations without a key.
   */
  randomBytes?: (into: Uint8Array) => void;
  /**
   * The largest packet this node sends (default 65 507, the largest UDP payload); pass the
   * transport's `maxPacketBytes`. It bounds the length of one message, and so the bytes
   * `partOverhead` reserves for writing that length.
   */
  maxPacketBytes?: number;
  /** Largest push-pull state accepted, before and after inflating (default 4 MiB). */
  maxStateBytes?: number;
}

/** The largest UDP payload over IPv4, and the decoder's default packet limit. */
const MAX_UDP_PAYLOAD = 65_507;
const DEFAULT_MAX_STATE_BYTES = 4 << 20;

/**
 * The gossip wire format as a {@linkcode GossipCodec} for `SwimNode`: the protocol's messages
 * as protobuf `Message`s (proto/skiff/gossip/v1/gossip.proto; the field mapping is in
 * `_gossip_mapping.ts`), packed into packets with the header, CRC32 and optional deflate and
 * AES-GCM of proto/README.md. Synchronous throughout, so it runs inside the network simulator.
 *
 * - `encode(message)` gives the protobuf bytes of one `Message`; `pack(parts)` frames
 *   encoded messages into a packet without encoding them again (each part becomes one
 *   length-delimited `Compound.messages` field).
 * - `packetOverhead` is exact: 38 bytes, 54 with a keyring (compression only shrinks the
 *   body). `partOverhead` is an upper bound: 1 tag byte plus the varint length of the longest
 *   message a packet of `maxPacketBytes` can hold (3 bytes up to a 16 KiB packet, 4 above);
 *   a part shorter than 128 bytes takes one byte less. So `packetOverhead + Σ (part +
 *   partOverhead)` is never less than the packet's length.
 * - `unpack` and `decodeState` never throw for bad input: they return `{ drop }` with a
 *   {@linkcode DecodeFailure}. A `PushPull` in a datagram, or an `Alive` without its member,
 *   is `garbage`; messages of kinds this version does not know are skipped.
 * - `encodeState`/`decodeState` carry one `PushPull` message as a packet (for a stream); a
 *   member whose state this version does not know is left out of the decoded state.
 * - The v1 schema has no sender on `Ack` and `Nack`: their `from` decodes as "".
 *
 * @param options cluster, clock, keys, replay guard, compression, sizes
 * @returns the codec
 * @throws {RangeError} from `encode` and `encodeState` for a number outside uint32 or an
 *   unknown service protocol, and when the clock is not Unix milliseconds
 *
 * @example
 * ```ts
 * const codec = protobufCodec({ cluster: "prod", clock: systemClock, keyring, replay });
 * const node = new SwimNode(self, { transport, clock: systemClock, rng, codec, config });
 * ```
 */
export function protobufCodec(options: ProtobufCodecOptions): GossipCodec {
  const encodeOptions: EncodeOptions = {
    cluster: options.cluster,
    clock: options.clock,
    keyring: options.keyring,
    compress: options.compress,
    randomBytes: options.randomBytes,
  };
  const decodeOptions: DecodeOptions = {
    cluster: options.cluster,
    keyring: options.keyring,
    acceptPlaintext: options.acceptPlaintext,
    replay: options.replay,
  };
  const stateOptions: DecodeOptions = {
    ...decodeOptions,
    maxBytes: options.maxStateBytes ?? DEFAULT_MAX_STATE_BYTES,
  };
  const overhead = packetOverhead(options.keyring !== undefined);
  const maxPacketBytes = options.maxPacketBytes ?? MAX_UDP_PAYLOAD;
  if (!Number.isInteger(maxPacketBytes) || maxPacketBytes <= overhead) {
    throw new RangeError(
      `maxPacketBytes must be an integer above the ${overhead}-byte packet overhead, got ` +
        `${maxPacketBytes}; pass the transport's maxPacketBytes`,
    );
  }

  return {
    packetOverhead: overhead,
    partOverhead: 1 + varintSize(maxPacketBytes - overhead),
    encode: (message: GossipMessage) => toBinary(MessageSchema, toWire(message)),
    pack: (parts: readonly Uint8Array[]) => framePacket(joinMessages(parts), encodeOptions),
    unpack(packet: Uint8Array): GossipMessage[] | { drop: DecodeFailure } {
      const result = decodePacket(packet, decodeOptions);
      if (!result.ok) return { drop: result.reason };
      const out: GossipMessage[] = [];
      for (const m of result.messages) {
        const msg = fromWire(m);
        if (!msg) return { drop: "garbage" };
        out.push(msg);
      }
      return out;
    },
    encodeState: (members: readonly MemberInfo[]) =>
      framePacket(joinMessages([toBinary(MessageSchema, stateToWire(members))]), encodeOptions),
    decodeState(bytes: Uint8Array): MemberInfo[] | { drop: DecodeFailure } {
      const result = decodePacket(bytes, stateOptions);
      if (!result.ok) return { drop: result.reason };
      const [only, ...more] = result.messages;
      if (only?.kind.case !== "pushPull" || more.length > 0) return { drop: "garbage" };
      const members: MemberInfo[] = [];
      for (const m of only.kind.value.members) {
        const info = memberFromWire(m);
        if (info) members.push(info);
      }
      return members;
    },
  };
}
