import assert from "node:assert/strict";
import { create, fromBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import type { GossipCodec, GossipMessage } from "../../../../src/discovery/gossip/mod.ts";
import {
  DECODE_FAILURES,
  encodePacket,
  Keyring,
  MemberSchema,
  MemberState,
  type Message,
  MessageSchema,
  packetOverhead,
  protobufCodec,
  ReplayGuard,
} from "../../../../src/discovery/gossip/wire/mod.ts";
import { VirtualClock } from "../../../../src/core/mod.ts";
import { EVERY_GOSSIP, gossipArb, memberArb, onWire, STATE } from "./_gossip_messages.ts";

const clock = { now: () => 1_700_000_000_000 };
const keyring = Keyring.create([new Uint8Array(32).fill(4)]);
const plain = protobufCodec({ cluster: "test", clock, maxPacketBytes: 1400 });
const sealed = protobufCodec({ cluster: "test", clock, keyring, maxPacketBytes: 1400 });
const CODECS: Record<string, GossipCodec> = {
  plaintext: plain,
  encrypted: sealed,
  "plaintext, deflate": protobufCodec({ cluster: "test", clock, compress: true }),
  "encrypted, deflate": protobufCodec({ cluster: "test", clock, keyring, compress: true }),
};
const codecArb = fc.constantFrom(...Object.keys(CODECS));

function roundTrip(codec: GossipCodec, messages: readonly GossipMessage[]) {
  return codec.unpack(codec.pack(messages.map((m) => codec.encode(m))));
}

function assertDropped(result: unknown): string {
  assert.ok(!Array.isArray(result), "a damaged packet was accepted");
  const { drop } = result as { drop: string };
  assert.ok((DECODE_FAILURES as readonly string[]).includes(drop), `unknown reason ${drop}`);
  return drop;
}

for (const [kind, message] of Object.entries(EVERY_GOSSIP)) {
  Deno.test(`protobufCodec round trip of ${kind}: plaintext, encrypted, deflated`, () => {
    for (const codec of Object.values(CODECS)) {
      assert.deepStrictEqual(roundTrip(codec, [message]), [onWire(message)]);
    }
  });
}

Deno.test("protobufCodec: an ack or a nack loses its sender (the v1 schema has no field)", () => {
  assert.deepStrictEqual(roundTrip(plain, [{ type: "ack", seq: 1, from: "node-b" }]), [
    { type: "ack", seq: 1, from: "" },
  ]);
  assert.deepStrictEqual(roundTrip(plain, [{ type: "nack", seq: 2, from: "node-c" }]), [
    { type: "nack", seq: 2, from: "" },
  ]);
});

Deno.test("protobufCodec: arbitrary messages round-trip exactly, in order", () => {
  fc.assert(
    fc.property(fc.array(gossipArb, { maxLength: 12 }), codecArb, (messages, name) => {
      assert.deepStrictEqual(roundTrip(CODECS[name], messages), messages.map(onWire));
    }),
    { numRuns: 300 },
  );
});

Deno.test("protobufCodec: a state with services and labels round-trips exactly", () => {
  for (const codec of Object.values(CODECS)) {
    assert.deepStrictEqual(codec.decodeState(codec.encodeState(STATE)), STATE);
    assert.deepStrictEqual(codec.decodeState(codec.encodeState([])), []);
  }
  fc.assert(
    fc.property(fc.array(memberArb, { maxLength: 20 }), codecArb, (members, name) => {
      const codec = CODECS[name];
      assert.deepStrictEqual(codec.decodeState(codec.encodeState(members)), members);
    }),
    { numRuns: 100 },
  );
});

Deno.test("protobufCodec: pack gives the bytes of the Compound encoded whole", () => {
  // Same nonce both ways, so whole packets compare (the nonce is random otherwise).
  const nonce = (b: Uint8Array) => void b.fill(0x5a);
  fc.assert(
    fc.property(fc.array(gossipArb, { maxLength: 12 }), fc.boolean(), (messages, encrypt) => {
      const opts = {
        cluster: "test",
        clock,
        keyring: encrypt ? keyring : undefined,
        randomBytes: nonce,
      };
      const codec = protobufCodec(opts);
      const parts = messages.map((m) => codec.encode(m));
      // Each part is the protobuf encoding of one Message…
      const decoded: Message[] = parts.map((p) => fromBinary(MessageSchema, p));
      // …and the packet is what encodePacket makes of those Messages, byte for byte.
      assert.deepStrictEqual(codec.pack(parts), encodePacket(decoded, opts));
    }),
    { numRuns: 200 },
  );
});

Deno.test("protobufCodec: N encoded parts packed decode to the N messages in order", () => {
  const all = Object.values(EVERY_GOSSIP);
  for (const codec of Object.values(CODECS)) {
    const parts = all.map((m) => codec.encode(m));
    assert.deepStrictEqual(codec.unpack(codec.pack(parts)), all.map(onWire));
    assert.deepStrictEqual(codec.unpack(codec.pack([])), []);
    // The same parts in another order and repeated, as a piggyback queue takes them.
    const picked = [parts[3], parts[0], parts[3]];
    assert.deepStrictEqual(codec.unpack(codec.pack(picked)), [all[3], all[0], all[3]].map(onWire));
  }
});

/** Bytes one part of `len` bytes really takes: tag, varint length, message. */
function partBytes(len: number): number {
  return 1 + (len < 128 ? 1 : len < 16384 ? 2 : 3) + len;
}

Deno.test("protobufCodec budget: the overheads bound the packet length, exactly for parts of 128 B and up", () => {
  assert.equal(plain.packetOverhead, packetOverhead(false));
  assert.equal(sealed.packetOverhead, packetOverhead(true));
  assert.equal(plain.partOverhead, 3, "1400-byte packets: parts under 16 KiB");
  assert.equal(protobufCodec({ cluster: "test", clock }).partOverhead, 4, "65 507-byte packets");
  fc.assert(
    fc.property(fc.array(gossipArb, { maxLength: 12 }), fc.boolean(), (messages, encrypt) => {
      const codec = encrypt ? sealed : plain;
      const parts = messages.map((m) => codec.encode(m));
      const length = codec.pack(parts).length;
      const budget = parts.reduce((s, p) => s + p.length + codec.partOverhead, 0);
      assert.equal(
        length,
        codec.packetOverhead + parts.reduce((s, p) => s + partBytes(p.length), 0),
      );
      assert.ok(length <= codec.packetOverhead + budget);
      const small = parts.filter((p) => p.length < 128).length;
      assert.equal(codec.packetOverhead + budget - length, small, "one byte spare per short part");
    }),
    { numRuns: 300 },
  );
  // Deflate only ever shrinks the body: still a bound.
  const deflating = CODECS["encrypted, deflate"];
  const parts = Array.from({ length: 8 }, () => deflating.encode(EVERY_GOSSIP.alive));
  const budget = parts.reduce((s, p) => s + p.length + deflating.partOverhead, 0);
  assert.ok(deflating.pack(parts).length < (deflating.packetOverhead + budget) / 2);
});

Deno.test("protobufCodec budget: a packet filled to the budget fits maxPacketBytes", () => {
  const codec = protobufCodec({ cluster: "test", clock, keyring, maxPacketBytes: 600 });
  const parts: Uint8Array[] = [];
  let left = 600 - codec.packetOverhead;
  for (let i = 0;; i++) {
    const p = codec.encode({ ...EVERY_GOSSIP.suspect, name: "n".repeat(i % 150) } as GossipMessage);
    if (p.length + codec.partOverhead > left) break;
    parts.push(p);
    left -= p.length + codec.partOverhead;
  }
  const packet = codec.pack(parts);
  assert.ok(packet.length <= 600, `${packet.length}`);
  assert.equal((codec.unpack(packet) as GossipMessage[]).length, parts.length);
});

Deno.test("protobufCodec: random bytes are dropped with a reason, never thrown on", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), fc.boolean(), (bytes, magic) => {
      if (magic && bytes.length >= 3) bytes.set([0x73, 0x6b, 1]);
      for (const codec of [plain, sealed]) {
        assertDropped(codec.unpack(bytes));
        assertDropped(codec.decodeState(bytes));
      }
    }),
    { numRuns: 1000 },
  );
});

Deno.test("protobufCodec: truncated packets are dropped as truncated", () => {
  fc.assert(
    fc.property(fc.array(gossipArb, { maxLength: 8 }), codecArb, fc.nat(), (msgs, name, cut) => {
      const codec = CODECS[name];
      const packet = codec.pack(msgs.map((m) => codec.encode(m)));
      assert.equal(
        assertDropped(codec.unpack(packet.subarray(0, cut % packet.length))),
        "truncated",
      );
      const state = codec.encodeState([]);
      const r = codec.decodeState(state.subarray(0, cut % state.length));
      assert.equal(assertDropped(r), "truncated");
    }),
    { numRuns: 200 },
  );
});

Deno.test("protobufCodec: a bit-flipped packet is dropped, or is exactly what was sent", () => {
  fc.assert(
    fc.property(
      fc.array(gossipArb, { maxLength: 8 }),
      codecArb,
      fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
      (msgs, name, flips) => {
        const codec = CODECS[name];
        const packet = codec.pack(msgs.map((m) => codec.encode(m)));
        for (const f of flips) packet[(f >> 3) % packet.length] ^= 1 << (f & 7);
        const r = codec.unpack(packet);
        if (Array.isArray(r)) assert.deepStrictEqual(r, msgs.map(onWire));
        else assertDropped(r);
        if (flips.length === 1) assertDropped(r);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("protobufCodec: another cluster's packets are foreign_cluster", () => {
  const other = protobufCodec({ cluster: "staging", clock });
  const packet = other.pack([other.encode(EVERY_GOSSIP.alive)]);
  assert.equal(assertDropped(plain.unpack(packet)), "foreign_cluster");
  assert.equal(assertDropped(plain.decodeState(other.encodeState(STATE))), "foreign_cluster");
});

Deno.test("protobufCodec encryption: wrong key, no key, plaintext, and the switch-over", () => {
  const parts = [sealed.encode(EVERY_GOSSIP.alive)];
  const otherKey = protobufCodec({
    cluster: "test",
    clock,
    keyring: Keyring.create([new Uint8Array(16).fill(9)]),
  });
  assert.equal(assertDropped(otherKey.unpack(sealed.pack(parts))), "bad_key");
  assert.equal(assertDropped(otherKey.decodeState(sealed.encodeState(STATE))), "bad_key");
  assert.equal(assertDropped(plain.unpack(sealed.pack(parts))), "bad_key", "no keyring");
  assert.equal(assertDropped(sealed.unpack(plain.pack(parts))), "not_encrypted");
  const switching = protobufCodec({ cluster: "test", clock, keyring, acceptPlaintext: true });
  assert.deepStrictEqual(switching.unpack(plain.pack(parts)), [EVERY_GOSSIP.alive]);
  assert.deepStrictEqual(switching.unpack(sealed.pack(parts)), [EVERY_GOSSIP.alive]);
});

Deno.test("protobufCodec encryption: 16 bytes more, and no names in the clear", () => {
  const parts = [plain.encode(EVERY_GOSSIP.alive)];
  const clear = plain.pack(parts);
  const secret = sealed.pack(parts);
  assert.equal(secret.length, clear.length + 16);
  const text = (b: Uint8Array) => new TextDecoder("latin1").decode(b);
  assert.ok(text(clear).includes("spiffe://example.org"));
  assert.ok(!text(secret).includes("spiffe://example.org"));
  assert.ok(!text(sealed.encodeState(STATE)).includes("node-0"));
});

Deno.test("protobufCodec with a replay guard drops a packet's second copy", () => {
  const vclock = new VirtualClock();
  const replay = new ReplayGuard({ clock: vclock });
  const codec = protobufCodec({ cluster: "test", clock: vclock, keyring, replay });
  const packet = codec.pack([codec.encode(EVERY_GOSSIP.suspect)]);
  const state = codec.encodeState(STATE);
  assert.deepStrictEqual(codec.unpack(packet), [EVERY_GOSSIP.suspect]);
  assert.equal(assertDropped(codec.unpack(packet)), "replayed");
  vclock.advance(31_000);
  assert.equal(assertDropped(codec.decodeState(state)), "stale", "past the 30 s window");
});

/** A plaintext packet of these protobuf messages, as a sender of any version could make it. */
function wirePacket(...kinds: Parameters<typeof create<typeof MessageSchema>>[1][]) {
  return encodePacket(kinds.map((k) => create(MessageSchema, k)), { cluster: "test", clock });
}

Deno.test("protobufCodec: messages out of place are garbage", () => {
  // A push-pull state sent as a datagram, and a datagram read as a state.
  assert.equal(assertDropped(plain.unpack(plain.encodeState(STATE))), "garbage");
  assert.equal(
    assertDropped(plain.decodeState(plain.pack([plain.encode(EVERY_GOSSIP.dead)]))),
    "garbage",
  );
  assert.equal(assertDropped(plain.decodeState(plain.pack([]))), "garbage");
  // An Alive without its member.
  assert.equal(
    assertDropped(plain.unpack(wirePacket({ kind: { case: "alive", value: {} } }))),
    "garbage",
  );
  // Two states in one packet.
  const state = { kind: { case: "pushPull", value: {} } } as const;
  assert.equal(assertDropped(plain.decodeState(wirePacket(state, state))), "garbage");
});

Deno.test("protobufCodec: what a newer sender might send is read as far as it can be", () => {
  const member = create(MemberSchema, {
    name: "node-x",
    address: "x:1",
    incarnation: 1,
    state: 9 as MemberState,
    services: [{ name: "web", port: 80, protocol: 7 as never, labels: { a: "b" } }],
  });
  // Alive ignores the state it carries; a protocol it does not know is detected ("auto").
  const alive = plain.unpack(wirePacket({ kind: { case: "alive", value: { member } } }));
  assert.deepStrictEqual(alive, [{
    type: "alive",
    member: {
      name: "node-x",
      address: "x:1",
      incarnation: 1,
      state: "alive",
      spiffeId: "",
      services: [{ name: "web", port: 80, protocol: "auto", labels: { a: "b" } }],
    },
  }]);
  // A state leaves out the member whose state it cannot tell, and keeps the others.
  const known = create(MemberSchema, { name: "node-y", state: MemberState.SUSPECT });
  const unset = create(MemberSchema, { name: "node-z" });
  const state = plain.decodeState(
    wirePacket({ kind: { case: "pushPull", value: { members: [member, known, unset] } } }),
  );
  assert.deepStrictEqual((state as { name: string }[]).map((m) => m.name), ["node-y"]);
});

Deno.test("protobufCodec refuses to encode what the wire cannot carry", () => {
  assert.throws(() => plain.encode({ type: "ack", seq: 2 ** 32, from: "a" }), RangeError);
  assert.throws(() => plain.encode({ type: "leave", name: "a", incarnation: -1 }), RangeError);
  const member = { ...EVERY_GOSSIP.alive } as Extract<GossipMessage, { type: "alive" }>;
  const quic = {
    ...member.member,
    services: [{ name: "q", port: 443, protocol: "quic", labels: {} }],
  };
  assert.throws(() => plain.encode({ type: "alive", member: quic }), /"quic"/);
  assert.throws(() => plain.encodeState([quic]), /"quic"/);
  assert.throws(() => protobufCodec({ cluster: "test", clock, maxPacketBytes: 38 }), RangeError);
  assert.throws(
    () => protobufCodec({ cluster: "test", clock: { now: () => -1 } }).pack([]),
    /Unix milliseconds/,
  );
});
