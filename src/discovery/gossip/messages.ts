import type { MemberState } from "./member_state.ts";

/** A service a member offers, as discovery turns it into endpoints. */
export interface ServiceInfo {
  name: string;
  port: number;
  /** `http`, `http2`, `grpc`, `tcp`. */
  protocol: string;
  /** E.g. `version`, `zone`. */
  labels: Record<string, string>;
}

/** Everything gossip says about one member. */
export interface MemberInfo {
  name: string;
  /** Where its gossip transport listens (`host:port`, or a node name in the simulator). */
  address: string;
  incarnation: number;
  state: MemberState;
  /** Its SPIFFE ID (empty until mTLS identities exist). */
  spiffeId: string;
  services: ServiceInfo[];
}

/**
 * The protocol's messages as the core sees them, independent of the wire format (protobuf,
 * in `wire/`). Packets carry one probe message and piggybacked membership updates.
 */
export type GossipMessage =
  /** A direct probe. `suspicion` is set when the prober suspects the target (buddy refutation). */
  | { type: "ping"; seq: number; from: string; target: string; suspicion?: number }
  /** Please probe `target` for me, and answer with an ack (or a nack when you got none). */
  | {
    type: "ping_req";
    seq: number;
    from: string;
    target: string;
    targetAddress: string;
    nack: boolean;
  }
  | { type: "ack"; seq: number; from: string }
  /** An indirect prober could not reach the target (it, at least, is alive). */
  | { type: "nack"; seq: number; from: string }
  | { type: "alive"; member: MemberInfo }
  | { type: "suspect"; name: string; incarnation: number; from: string }
  | { type: "dead"; name: string; incarnation: number; from: string }
  | { type: "leave"; name: string; incarnation: number };

/** Why a packet was dropped (counted, never thrown). */
export type DropReason = string;

/**
 * Turns messages into packets and back. `encode` gives the bytes of one message (the unit the
 * piggyback queue keeps); `pack` joins encoded messages into one packet; `unpack` reads a
 * packet, and never throws: bad input comes back as a drop reason.
 */
export interface GossipCodec {
  encode(message: GossipMessage): Uint8Array;
  pack(parts: readonly Uint8Array[]): Uint8Array;
  /** Bytes `pack` adds per packet and per part, for budgeting against the MTU. */
  readonly packetOverhead: number;
  readonly partOverhead: number;
  unpack(packet: Uint8Array): GossipMessage[] | { drop: DropReason };
  /** The full member list for push-pull sync (over a stream). */
  encodeState(members: readonly MemberInfo[]): Uint8Array;
  decodeState(bytes: Uint8Array): MemberInfo[] | { drop: DropReason };
}
