// Fixtures and fast-check arbitraries for the gossip wire tests: one message of every kind,
// random messages of every kind, and an equality that ignores protobuf-es internals.
import { create, equals, type MessageInitShape } from "@bufbuild/protobuf";
import fc from "fast-check";
import {
  MemberSchema,
  MemberState,
  type Message,
  MessageSchema,
  ServiceProtocol,
} from "../../../../src/discovery/gossip/wire/mod.ts";

const member: MessageInitShape<typeof MemberSchema> = {
  name: "node-a",
  address: "10.0.0.1:7946",
  incarnation: 7,
  state: MemberState.ALIVE,
  spiffeId: "spiffe://example.org/ns/prod/sa/api",
  services: [{
    name: "api",
    port: 8443,
    protocol: ServiceProtocol.GRPC,
    labels: { version: "v2", zone: "eu-west-1a" },
  }, { name: "metrics", port: 9090, protocol: ServiceProtocol.HTTP1, labels: {} }],
};
const suspicion = { incarnation: 7, member: "node-b", from: "node-c" };

/** One message of every kind, by `kind.case`, with every field set. */
export const EVERY_KIND: Record<NonNullable<Message["kind"]["case"]>, Message> = {
  ping: msg({
    case: "ping",
    value: {
      seq: 1,
      target: "node-b",
      source: "node-a",
      sourceAddress: "10.0.0.1:7946",
      suspicion,
    },
  }),
  indirectPing: msg({
    case: "indirectPing",
    value: {
      seq: 4294967295,
      target: "node-b",
      targetAddress: "[::1]:7946",
      nack: true,
      source: "node-a",
      sourceAddress: "10.0.0.1:7946",
      suspicion,
    },
  }),
  ack: msg({ case: "ack", value: { seq: 2, payload: new Uint8Array([1, 2, 3]) } }),
  nack: msg({ case: "nack", value: { seq: 3 } }),
  alive: msg({ case: "alive", value: { member } }),
  suspect: msg({ case: "suspect", value: suspicion }),
  dead: msg({ case: "dead", value: { incarnation: 9, member: "node-b", from: "node-c" } }),
  leave: msg({ case: "leave", value: { incarnation: 10, member: "node-a" } }),
  pushPull: msg({
    case: "pushPull",
    value: {
      members: [member, { ...member, name: "node-b", state: MemberState.SUSPECT, services: [] }],
      join: true,
      from: "node-a",
    },
  }),
};

type KindInit = MessageInitShape<typeof MessageSchema>["kind"];

function msg(kind: KindInit): Message {
  return create(MessageSchema, { kind });
}

/** Whether two message lists are equal field by field. */
export function sameMessages(a: readonly Message[], b: readonly Message[]): boolean {
  return a.length === b.length && a.every((m, i) => equals(MessageSchema, m, b[i]));
}

const name = fc.string({ maxLength: 24 });
const u32 = fc.nat({ max: 0xffffffff });
const suspect = fc.record({ incarnation: u32, member: name, from: name });
const service = fc.record({
  name,
  port: fc.integer({ min: 1, max: 65535 }),
  protocol: fc.constantFrom(...[0, 1, 2, 3, 4] as ServiceProtocol[]),
  labels: fc.dictionary(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), {
    maxKeys: 4,
  }),
});
const memberArb = fc.record({
  name,
  address: name,
  incarnation: u32,
  state: fc.constantFrom(...[0, 1, 2, 3, 4] as MemberState[]),
  spiffeId: fc.string({ maxLength: 48 }),
  services: fc.array(service, { maxLength: 3 }),
});

/** A random message of any kind. */
export const messageArb: fc.Arbitrary<Message> = fc.oneof(
  fc.record({
    seq: u32,
    target: name,
    source: name,
    sourceAddress: name,
    suspicion: fc.option(suspect, { nil: undefined }),
  }).map((value) => msg({ case: "ping", value } as KindInit)),
  fc.record({
    seq: u32,
    target: name,
    targetAddress: name,
    nack: fc.boolean(),
    source: name,
    sourceAddress: name,
  }).map((value) => msg({ case: "indirectPing", value } as KindInit)),
  fc.record({ seq: u32, payload: fc.uint8Array({ maxLength: 64 }) })
    .map((value) => msg({ case: "ack", value } as KindInit)),
  fc.record({ seq: u32 }).map((value) => msg({ case: "nack", value } as KindInit)),
  memberArb.map((member) => msg({ case: "alive", value: { member } } as KindInit)),
  suspect.map((value) => msg({ case: "suspect", value } as KindInit)),
  suspect.map((value) => msg({ case: "dead", value } as KindInit)),
  fc.record({ incarnation: u32, member: name })
    .map((value) => msg({ case: "leave", value } as KindInit)),
  fc.record({ members: fc.array(memberArb, { maxLength: 3 }), join: fc.boolean(), from: name })
    .map((value) => msg({ case: "pushPull", value } as KindInit)),
);

/** A random list of 0..8 messages. */
export const messagesArb: fc.Arbitrary<Message[]> = fc.array(messageArb, { maxLength: 8 });
