// Fixtures and fast-check arbitraries of the protocol core's messages (GossipMessage,
// MemberInfo) for the protobufCodec tests, and what of them the v1 wire format carries.
import fc from "fast-check";
import type {
  GossipMessage,
  MemberInfo,
  MemberState,
} from "../../../../src/discovery/gossip/mod.ts";

const memberA: MemberInfo = {
  name: "node-a",
  address: "10.0.0.1:7946",
  incarnation: 7,
  state: "alive",
  spiffeId: "spiffe://example.org/ns/prod/sa/api",
  services: [
    {
      name: "api",
      port: 8443,
      protocol: "grpc",
      labels: { version: "v2", zone: "eu-west-1a" },
    },
    { name: "metrics", port: 9090, protocol: "http", labels: {} },
    { name: "db", port: 5432, protocol: "tcp", labels: { role: "primary" } },
  ],
};

/** One message of every kind and variant, with every field set. */
export const EVERY_GOSSIP: Record<string, GossipMessage> = {
  ping: { type: "ping", seq: 1, from: "node-a", target: "node-b" },
  "ping with suspicion": { type: "ping", seq: 2, from: "node-a", target: "node-b", suspicion: 7 },
  "ping with suspicion at incarnation 0": {
    type: "ping",
    seq: 3,
    from: "node-a",
    target: "node-b",
    suspicion: 0,
  },
  ping_req: {
    type: "ping_req",
    seq: 0xffffffff,
    from: "node-a",
    target: "node-b",
    targetAddress: "[::1]:7946",
    nack: true,
  },
  "ping_req without nack": {
    type: "ping_req",
    seq: 5,
    from: "node-a",
    target: "node-b",
    targetAddress: "10.0.0.2:7946",
    nack: false,
  },
  ack: { type: "ack", seq: 6, from: "node-b" },
  nack: { type: "nack", seq: 7, from: "node-c" },
  alive: { type: "alive", member: memberA },
  "alive without services": {
    type: "alive",
    member: { ...memberA, name: "node-b", spiffeId: "", services: [] },
  },
  suspect: { type: "suspect", name: "node-b", incarnation: 7, from: "node-c" },
  dead: { type: "dead", name: "node-b", incarnation: 9, from: "node-c" },
  leave: { type: "leave", name: "node-a", incarnation: 10 },
};

/** A member list in every state, with services and labels. */
export const STATE: MemberInfo[] = (["alive", "suspect", "dead", "left"] as MemberState[]).map((
  state,
  i,
) => ({
  ...memberA,
  name: `node-${i}`,
  address: `10.0.0.${i}:7946`,
  incarnation: i * 3,
  state,
  services: i % 2 ? [] : memberA.services,
}));

/**
 * `msg` as the v1 wire format carries it: exactly, but for the sender of an ack or a nack,
 * which the schema has no field for (it decodes as "").
 */
export function onWire(msg: GossipMessage): GossipMessage {
  return msg.type === "ack" || msg.type === "nack" ? { ...msg, from: "" } : msg;
}

/** `value` with Object.prototype objects throughout (fast-check makes some null-prototype). */
function plainObjects<T>(value: T): T {
  return structuredClone(value);
}

// Names in any Unicode, to exercise UTF-8 both ways.
const text = fc.string({ unit: "binary", maxLength: 24 });
const short = fc.string({ unit: "binary", maxLength: 8 });
const u32 = fc.nat({ max: 0xffffffff });
const service = fc.record({
  name: text,
  port: fc.integer({ min: 1, max: 65535 }),
  protocol: fc.constantFrom("http", "http2", "grpc", "tcp", "auto"),
  labels: fc.dictionary(short, short, { maxKeys: 4, noNullPrototype: true }),
});

/** A random member in any state. */
export const memberArb: fc.Arbitrary<MemberInfo> = fc.record({
  name: text,
  address: text,
  incarnation: u32,
  state: fc.constantFrom<MemberState>("alive", "suspect", "dead", "left"),
  spiffeId: fc.string({ unit: "binary", maxLength: 48 }),
  services: fc.array(service, { maxLength: 3 }),
}).map(plainObjects);

/** A random message of any kind, every optional field present or not. */
export const gossipArb: fc.Arbitrary<GossipMessage> = fc.oneof(
  fc.record({ type: fc.constant("ping"), seq: u32, from: text, target: text, suspicion: u32 }, {
    requiredKeys: ["type", "seq", "from", "target"],
  }),
  fc.record({
    type: fc.constant("ping_req"),
    seq: u32,
    from: text,
    target: text,
    targetAddress: text,
    nack: fc.boolean(),
  }),
  fc.record({ type: fc.constantFrom("ack", "nack"), seq: u32, from: text }),
  fc.record({ type: fc.constant("alive"), member: memberArb }),
  fc.record({ type: fc.constantFrom("suspect", "dead"), name: text, incarnation: u32, from: text }),
  fc.record({ type: fc.constant("leave"), name: text, incarnation: u32 }),
).map(plainObjects) as fc.Arbitrary<GossipMessage>;
