/**
 * The core's messages (`../messages.ts`) to and from the protobuf messages of
 * proto/skiff/gossip/v1/gossip.proto (private to wire/; `protobufCodec` uses it).
 *
 * | core                                   | protobuf                                        |
 * | -------------------------------------- | ----------------------------------------------- |
 * | ping {seq, from, target, suspicion?}   | Ping {seq, source, target, suspicion: Suspect   |
 * |                                        | {incarnation: suspicion, member: target, from}} |
 * | ping_req {seq, from, target,           | IndirectPing {seq, source, target,              |
 * | targetAddress, nack}                   | target_address, nack}                           |
 * | ack / nack {seq, from}                 | Ack / Nack {seq} — `from` is not in the v1      |
 * |                                        | schema: it decodes as ""                        |
 * | alive {member}                         | Alive {member}                                  |
 * | suspect / dead {name, incarnation,     | Suspect / Dead {member, incarnation, from}      |
 * | from}                                  |                                                 |
 * | leave {name, incarnation}              | Leave {member, incarnation}                     |
 * | state alive/suspect/dead/left          | MEMBER_STATE_ALIVE/SUSPECT/DEAD/LEFT            |
 * | protocol http/http2/grpc/tcp/auto      | SERVICE_PROTOCOL_HTTP1/HTTP2/GRPC/TCP/UNSPECIFIED |
 *
 * Fields the core has no use for are left empty when encoding and ignored when decoding:
 * `Ping.source_address`, `IndirectPing.source_address`, `IndirectPing.suspicion`,
 * `Ack.payload`, `PushPull.join` and `PushPull.from`.
 * @module
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  type Member,
  MemberSchema,
  MemberState as WireState,
  type Message,
  MessageSchema,
  ServiceProtocol,
} from "../_gen/gossip_pb.ts";
import type { MemberState } from "../member_state.ts";
import type { GossipMessage, MemberInfo } from "../messages.ts";

const STATES: Record<MemberState, WireState> = {
  alive: WireState.ALIVE,
  suspect: WireState.SUSPECT,
  dead: WireState.DEAD,
  left: WireState.LEFT,
};
const STATE_NAMES = new Map<WireState, MemberState>(
  Object.entries(STATES).map(([k, v]) => [v, k as MemberState]),
);

const PROTOCOLS: Record<string, ServiceProtocol> = {
  auto: ServiceProtocol.UNSPECIFIED,
  http: ServiceProtocol.HTTP1,
  http2: ServiceProtocol.HTTP2,
  grpc: ServiceProtocol.GRPC,
  tcp: ServiceProtocol.TCP,
};
const PROTOCOL_NAMES = new Map<ServiceProtocol, string>(
  Object.entries(PROTOCOLS).map(([k, v]) => [v, k]),
);

type MemberInit = MessageInitShape<typeof MemberSchema>;

function u32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`A gossip ${what} must be an integer in 0 .. 2^32-1, got ${value}`);
  }
  return value;
}

function wireState(state: MemberState): WireState {
  if (!Object.hasOwn(STATES, state)) {
    throw new RangeError(`A member state must be alive, suspect, dead or left, got "${state}"`);
  }
  return STATES[state];
}

/**
 * The protobuf form of a member.
 *
 * @throws {RangeError} for an incarnation or port outside uint32, or a service protocol other
 *   than http, http2, grpc, tcp, auto
 */
export function memberToWire(m: MemberInfo): MemberInit {
  return {
    name: m.name,
    address: m.address,
    incarnation: u32(m.incarnation, "incarnation"),
    state: wireState(m.state),
    spiffeId: m.spiffeId,
    services: m.services.map((s) => {
      if (!Object.hasOwn(PROTOCOLS, s.protocol)) {
        throw new RangeError(
          `Service "${s.name}" has protocol "${s.protocol}"; gossip carries http, http2, grpc, ` +
            "tcp or auto",
        );
      }
      const protocol = PROTOCOLS[s.protocol];
      return { name: s.name, port: u32(s.port, "port"), protocol, labels: s.labels };
    }),
  };
}

/**
 * The core's form of a member, or undefined when its state is one this version does not know
 * (unset, or added by a newer sender).
 *
 * @param stateless the state to use when the message's own is to be ignored (`Alive`)
 */
export function memberFromWire(m: Member, stateless?: MemberState): MemberInfo | undefined {
  const state = stateless ? STATE_NAMES.get(m.state) ?? stateless : STATE_NAMES.get(m.state);
  if (state === undefined) return undefined;
  return {
    name: m.name,
    address: m.address,
    incarnation: m.incarnation,
    state,
    spiffeId: m.spiffeId,
    services: m.services.map((s) => ({
      name: s.name,
      port: s.port,
      // A protocol added by a newer sender: detect it from the first bytes.
      protocol: PROTOCOL_NAMES.get(s.protocol) ?? "auto",
      labels: { ...s.labels },
    })),
  };
}

/**
 * The protobuf `Message` for a core message.
 *
 * @throws {RangeError} for a sequence number, incarnation or port outside uint32, or an
 *   unknown service protocol
 */
export function toWire(msg: GossipMessage): Message {
  switch (msg.type) {
    case "ping":
      return create(MessageSchema, {
        kind: {
          case: "ping",
          value: {
            seq: u32(msg.seq, "sequence number"),
            target: msg.target,
            source: msg.from,
            suspicion: msg.suspicion === undefined ? undefined : {
              incarnation: u32(msg.suspicion, "incarnation"),
              member: msg.target,
              from: msg.from,
            },
          },
        },
      });
    case "ping_req":
      return create(MessageSchema, {
        kind: {
          case: "indirectPing",
          value: {
            seq: u32(msg.seq, "sequence number"),
            target: msg.target,
            targetAddress: msg.targetAddress,
            nack: msg.nack,
            source: msg.from,
          },
        },
      });
    case "ack":
    case "nack":
      return create(MessageSchema, {
        kind: { case: msg.type, value: { seq: u32(msg.seq, "sequence number") } },
      });
    case "alive":
      return create(MessageSchema, {
        kind: { case: "alive", value: { member: memberToWire(msg.member) } },
      });
    case "suspect":
    case "dead":
      return create(MessageSchema, {
        kind: {
          case: msg.type,
          value: {
            incarnation: u32(msg.incarnation, "incarnation"),
            member: msg.name,
            from: msg.from,
          },
        },
      });
    case "leave":
      return create(MessageSchema, {
        kind: {
          case: "leave",
          value: { incarnation: u32(msg.incarnation, "incarnation"), member: msg.name },
        },
      });
  }
}

/**
 * The `PushPull` message carrying a full member list.
 *
 * @throws {RangeError} as {@linkcode toWire}
 */
export function stateToWire(members: readonly MemberInfo[]): Message {
  return create(MessageSchema, {
    kind: { case: "pushPull", value: { members: members.map(memberToWire) } },
  });
}

/**
 * The core message for a protobuf `Message` of a packet, or undefined when it has no place in
 * one: an `Alive` without its member, or a `PushPull` (which travels on streams).
 */
export function fromWire(m: Message): GossipMessage | undefined {
  const k = m.kind;
  switch (k.case) {
    case "ping": {
      const p = k.value;
      const msg: GossipMessage = { type: "ping", seq: p.seq, from: p.source, target: p.target };
      if (p.suspicion) msg.suspicion = p.suspicion.incarnation;
      return msg;
    }
    case "indirectPing": {
      const p = k.value;
      return {
        type: "ping_req",
        seq: p.seq,
        from: p.source,
        target: p.target,
        targetAddress: p.targetAddress,
        nack: p.nack,
      };
    }
    case "ack":
    case "nack":
      return { type: k.case, seq: k.value.seq, from: "" };
    case "alive": {
      // Alive's member.state is ignored by the schema: an unset or unknown one means alive.
      const member = k.value.member && memberFromWire(k.value.member, "alive");
      return member && { type: "alive", member };
    }
    case "suspect":
    case "dead":
      return {
        type: k.case,
        name: k.value.member,
        incarnation: k.value.incarnation,
        from: k.value.from,
      };
    case "leave":
      return { type: "leave", name: k.value.member, incarnation: k.value.incarnation };
    default:
      return undefined;
  }
}
