import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import {
  clusterId,
  CompoundSchema,
  decodePacket,
  encodePacket,
  Keyring,
  MessageSchema,
  packetOverhead,
  peekPacketLength,
} from "../../../../src/discovery/gossip/wire/mod.ts";
import { EVERY_KIND, sameMessages } from "./_messages.ts";
import { fixCrc, frame } from "./_frame.ts";

const clock = { now: () => 1_700_000_000_123 };
const opts = { cluster: "test", clock };
const key = new Uint8Array(32).fill(1);

Deno.test("EVERY_KIND covers every case of Message.kind in the schema", () => {
  const cases = MessageSchema.oneofs[0].fields.map((f) => f.localName).sort();
  assert.deepEqual(Object.keys(EVERY_KIND).sort(), cases);
});

for (const [kind, message] of Object.entries(EVERY_KIND)) {
  Deno.test(`round trip of ${kind}: plain, encrypted, encrypted and compressed`, () => {
    const keyring = Keyring.create([key]);
    for (const o of [opts, { ...opts, keyring }, { ...opts, keyring, compress: true }]) {
      const bytes = encodePacket([message], o);
      const result = decodePacket(bytes, o);
      assert.ok(result.ok, `decoded: ${JSON.stringify(result)}`);
      assert.ok(sameMessages(result.messages, [message]));
      assert.equal(result.encrypted, "keyring" in o);
      assert.equal(result.sentAt, 1_700_000_000_123);
    }
  });
}

Deno.test("a packet of every kind at once keeps their order", () => {
  const all = Object.values(EVERY_KIND);
  const result = decodePacket(encodePacket(all, opts), opts);
  assert.ok(result.ok);
  assert.ok(sameMessages(result.messages, all));
  assert.equal(result.skipped, 0);
});

Deno.test("an empty packet is valid and carries no messages", () => {
  const bytes = encodePacket([], opts);
  assert.equal(bytes.length, packetOverhead(false));
  assert.deepEqual(decodePacket(bytes, opts), {
    ok: true,
    messages: [],
    skipped: 0,
    sentAt: 1_700_000_000_123,
    encrypted: false,
  });
});

Deno.test("the header is laid out as proto/README.md draws it", () => {
  const bytes = encodePacket([EVERY_KIND.nack], {
    ...opts,
    randomBytes: (b) => b.fill(0xab),
  });
  const body = toBinary(CompoundSchema, create(CompoundSchema, { messages: [EVERY_KIND.nack] }));
  // The hand-made packet with the same fields is byte for byte the same.
  assert.deepEqual(
    bytes,
    frame(body, { sentAt: 1_700_000_000_123, nonce: new Uint8Array(12).fill(0xab) }),
  );
  assert.deepEqual([...bytes.subarray(0, 4)], [0x73, 0x6b, 1, 0]);
  assert.equal(peekPacketLength(bytes), bytes.length);
  assert.equal(peekPacketLength(bytes.subarray(0, 7)), undefined);
  assert.equal(peekPacketLength(new Uint8Array(8)), undefined);
});

Deno.test("an encrypted packet is the plaintext size plus the 16-byte tag", () => {
  const keyring = Keyring.create([key]);
  const plain = encodePacket([EVERY_KIND.alive], opts);
  const sealed = encodePacket([EVERY_KIND.alive], { ...opts, keyring });
  assert.equal(sealed.length, plain.length + 16);
  assert.equal(packetOverhead(true) - packetOverhead(false), 16);
  assert.equal(sealed[3], 1, "flags: encrypted");
  assert.equal(new DataView(sealed.buffer).getUint32(12), keyring.primary.id);
});

Deno.test("clusterId is FNV-1a 32 of the UTF-8 name", () => {
  assert.equal(clusterId(""), 0x811c9dc5);
  assert.equal(clusterId("a"), 0xe40c292c);
  assert.equal(clusterId("foobar"), 0xbf9cf968);
  assert.notEqual(clusterId("prod"), clusterId("staging"));
});

Deno.test("messages of a kind this version does not know are skipped, not the packet", () => {
  // Compound { messages: [Message{field 15: ""}, Message{nack{seq:3}}] } — field 15 stands
  // for a kind a newer sender added.
  const nack = toBinary(MessageSchema, EVERY_KIND.nack);
  const body = new Uint8Array([0x0a, 0x02, 0x7a, 0x00, 0x0a, nack.length, ...nack]);
  const result = decodePacket(frame(body), opts);
  assert.ok(result.ok);
  assert.equal(result.skipped, 1);
  assert.ok(sameMessages(result.messages, [EVERY_KIND.nack]));
});

Deno.test("compression is used only when it shrinks the body", () => {
  const tiny = encodePacket([EVERY_KIND.nack], { ...opts, compress: true });
  assert.equal(tiny[3] & 2, 0, "a 4-byte body does not shrink");
  const big = Array.from({ length: 8 }, () => EVERY_KIND.alive);
  const plain = encodePacket(big, opts);
  const packed = encodePacket(big, { ...opts, compress: true });
  assert.equal(packed[3] & 2, 2);
  assert.ok(packed.length < plain.length / 2, `${packed.length} vs ${plain.length}`);
  const result = decodePacket(packed, opts);
  assert.ok(result.ok && sameMessages(result.messages, big));
});

Deno.test("encodePacket refuses a clock that is not Unix milliseconds", () => {
  assert.throws(
    () => encodePacket([], { cluster: "test", clock: { now: () => -1 } }),
    (e) => e instanceof RangeError && /Unix milliseconds/.test(e.message),
  );
});

Deno.test("the encrypted body is AES-GCM as WebCrypto computes it, for 128/192/256-bit keys", async () => {
  // Deno's node:crypto has no aes-192-gcm, so 24-byte keys take another path: check all three
  // against an independent implementation, with random keys, nonces and bodies.
  for (let i = 0; i < 20; i++) {
    for (const size of [16, 24, 32]) {
      const raw = crypto.getRandomValues(new Uint8Array(size));
      const keyring = Keyring.create([raw]);
      const messages = Object.values(EVERY_KIND).slice(0, 1 + (i % 9));
      const bytes = encodePacket(messages, { ...opts, keyring });
      const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["decrypt"]);
      const body = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: bytes.slice(22, 34), additionalData: bytes.slice(0, 34) },
        key,
        bytes.slice(34, -4),
      );
      const compound = toBinary(CompoundSchema, create(CompoundSchema, { messages }));
      assert.deepEqual(new Uint8Array(body), compound, `${size}-byte key`);
      // And what WebCrypto seals, decodePacket opens.
      const sealed = new Uint8Array(
        await crypto.subtle.encrypt(
          {
            name: "AES-GCM",
            iv: bytes.slice(22, 34),
            additionalData: bytes.slice(0, 34),
          },
          await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt"]),
          compound,
        ),
      );
      const again = frame(sealed, {
        flags: 1,
        keyId: keyring.primary.id,
        sentAt: 1_700_000_000_123,
        nonce: bytes.slice(22, 34),
      });
      const r = decodePacket(again, { ...opts, keyring });
      assert.ok(r.ok && sameMessages(r.messages, messages), `${size}-byte key, decoded`);
      // One flipped bit of the tag is refused.
      again[again.length - 5] ^= 1;
      const bad = decodePacket(fixCrc(again), { ...opts, keyring });
      assert.equal(!bad.ok && bad.reason, "bad_key");
    }
  }
});
