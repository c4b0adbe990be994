import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import fc from "fast-check";
import {
  decodePacket,
  encodedMessageSize,
  encodePacket,
  Keyring,
  type Message,
  MessageSchema,
  packetOverhead,
  packMessages,
} from "../../../../src/discovery/gossip/wire/mod.ts";
import { EVERY_KIND, messageArb, sameMessages } from "./_messages.ts";

const clock = { now: () => 1_700_000_000_000 };
const keyring = Keyring.create([new Uint8Array(32).fill(8)]);

Deno.test("packMessages: every packet fits the budget, and nothing is lost or reordered", () => {
  fc.assert(
    fc.property(
      fc.array(messageArb, { maxLength: 40 }),
      fc.integer({ min: 60, max: 1500 }),
      fc.boolean(),
      (messages, maxBytes, encrypted) => {
        const { packets, oversized } = packMessages(messages, maxBytes, { encrypted });
        const opts = { cluster: "c", clock, keyring: encrypted ? keyring : undefined };
        const seen: Message[] = [...oversized];
        for (const p of packets) {
          assert.ok(p.length > 0, "no empty packets");
          const bytes = encodePacket(p, opts);
          assert.ok(bytes.length <= maxBytes, `${bytes.length} > ${maxBytes}`);
          const r = decodePacket(bytes, opts);
          assert.ok(r.ok && sameMessages(r.messages, p));
          // Original relative order within a packet.
          const idx = p.map((m) => messages.indexOf(m));
          assert.deepEqual(idx, [...idx].sort((a, b) => a - b));
          seen.push(...p);
        }
        assert.equal(seen.length, messages.length);
        assert.deepEqual(new Set(seen), new Set(messages));
        const room = maxBytes - packetOverhead(encrypted);
        for (const m of oversized) assert.ok(encodedMessageSize(m) > room);
        // First-fit decreasing never needs more than twice the lower bound.
        const total = messages.filter((m) => !oversized.includes(m))
          .reduce((s, m) => s + encodedMessageSize(m), 0);
        assert.ok(packets.length <= Math.max(1, 2 * Math.ceil(total / room)));
      },
    ),
    { numRuns: 150 },
  );
});

Deno.test("encodedMessageSize is exactly what a message adds to a packet", () => {
  for (const m of Object.values(EVERY_KIND)) {
    const one = encodePacket([m], { cluster: "c", clock });
    assert.equal(one.length, packetOverhead(false) + encodedMessageSize(m));
  }
});

Deno.test("packMessages fills gaps with small messages: 5 messages in 2 packets", () => {
  const ack = (n: number) =>
    create(MessageSchema, { kind: { case: "ack", value: { payload: new Uint8Array(n) } } });
  const [big, small] = [ack(290), ack(10)];
  const budget = packetOverhead(true) + 2 * encodedMessageSize(big) + encodedMessageSize(small);
  const { packets } = packMessages([big, big, big, small, big], budget);
  assert.equal(packets.length, 2);
  assert.deepEqual(packets.map((p) => p.map((m) => m === small ? "s" : "b")), [
    ["b", "b", "s"],
    ["b", "b"],
  ]);
});

Deno.test("packMessages puts a message too big for any packet aside", () => {
  const big = { ...EVERY_KIND.pushPull };
  const { packets, oversized } = packMessages([EVERY_KIND.nack, big], 100);
  assert.deepEqual(oversized, [big]);
  assert.deepEqual(packets, [[EVERY_KIND.nack]]);
});

Deno.test("packMessages refuses a budget below the packet overhead", () => {
  assert.throws(() => packMessages([], 54), /54-byte packet overhead/);
  assert.throws(() => packMessages([], 1400.5), RangeError);
  assert.deepEqual(packMessages([], 55), { packets: [], oversized: [] });
});
