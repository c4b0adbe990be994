/**
 * The gossip wire format: the protobuf messages of proto/skiff/gossip/v1/gossip.proto
 * (generated into ../_gen/) and the packet framing around them — magic, version, cluster id,
 * CRC32, optional AES-GCM with a keyring for rotation, replay protection, compression — plus
 * packing of messages into MTU-sized packets, and `protobufCodec`, the `GossipCodec` that puts
 * `SwimNode`'s messages on this format. Everything is synchronous (node:crypto, node:zlib), so
 * it runs inside the protocol's callbacks and the network simulator. Decoding never throws for
 * bad input; it names the reason. The packet layout and the schema's versioning rules are in
 * proto/README.md.
 * @module
 */
export {
  type Ack,
  AckSchema,
  type Alive,
  AliveSchema,
  type Compound,
  CompoundSchema,
  type Dead,
  DeadSchema,
  type IndirectPing,
  IndirectPingSchema,
  type Leave,
  LeaveSchema,
  type Member,
  MemberSchema,
  MemberState,
  type Message,
  MessageSchema,
  type Nack,
  NackSchema,
  type Ping,
  PingSchema,
  type PushPull,
  PushPullSchema,
  type Service,
  ServiceProtocol,
  ServiceSchema,
  type Suspect,
  SuspectSchema,
} from "../_gen/gossip_pb.ts";
export { packetOverhead, peekPacketLength } from "./_format.ts";
export { clusterId } from "./cluster_id.ts";
export { keyId, Keyring, type KeyringEntry } from "./keyring.ts";
export { ReplayGuard, type ReplayGuardOptions, type ReplayVerdict } from "./replay_guard.ts";
export { type EncodeOptions, encodePacket } from "./encode_packet.ts";
export {
  DECODE_FAILURES,
  type DecodedPacket,
  type DecodeFailure,
  type DecodeOptions,
  decodePacket,
  type DecodeResult,
  type RejectedPacket,
} from "./decode_packet.ts";
export {
  encodedMessageSize,
  type Packing,
  packMessages,
  type PackOptions,
} from "./pack_messages.ts";
export { protobufCodec, type ProtobufCodecOptions } from "./gossip_codec.ts";
