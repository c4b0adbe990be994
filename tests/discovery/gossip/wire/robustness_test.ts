// Property tests: decodePacket never throws and never returns a message that was not sent,
// whatever bytes arrive.
import assert from "node:assert/strict";
import { deflateRawSync } from "node:zlib";
import fc from "fast-check";
import {
  DECODE_FAILURES,
  decodePacket,
  type DecodeResult,
  encodePacket,
  Keyring,
} from "../../../../src/discovery/gossip/wire/mod.ts";
import { messagesArb, sameMessages } from "./_messages.ts";
import { fixCrc, frame } from "./_frame.ts";

const clock = { now: () => 1_700_000_000_000 };
const plain = { cluster: "test", clock };
const keyring = Keyring.create([new Uint8Array(16).fill(9)]);
const sealed = { ...plain, keyring };
const RUNS = { numRuns: 300 };

function assertRejected(r: DecodeResult): asserts r is Extract<DecodeResult, { ok: false }> {
  assert.equal(r.ok, false, "a damaged packet was accepted");
  if (!r.ok) assert.ok(DECODE_FAILURES.includes(r.reason), `unknown reason ${r.reason}`);
}

Deno.test("random bytes are rejected with a reason, never thrown on", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), fc.boolean(), (bytes, magic) => {
      // Half the cases start like a real packet so that the later checks run too.
      if (magic && bytes.length >= 3) bytes.set([0x73, 0x6b, 1]);
      assertRejected(decodePacket(bytes, plain));
      assertRejected(decodePacket(bytes, sealed));
    }),
    { numRuns: 1000 },
  );
});

Deno.test("every truncation of a packet is rejected as truncated", () => {
  fc.assert(
    fc.property(messagesArb, fc.boolean(), fc.nat(), (messages, enc, cut) => {
      const o = enc ? sealed : plain;
      const bytes = encodePacket(messages, o);
      const r = decodePacket(bytes.subarray(0, cut % bytes.length), o);
      assertRejected(r);
      assert.equal(r.reason, "truncated");
    }),
    RUNS,
  );
});

Deno.test("a packet with bits flipped is rejected, or is exactly what was sent", () => {
  fc.assert(
    fc.property(
      messagesArb,
      fc.boolean(),
      fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
      (messages, enc, flips) => {
        const o = enc ? sealed : plain;
        const bytes = encodePacket(messages, o);
        for (const f of flips) bytes[(f >> 3) % bytes.length] ^= 1 << (f & 7);
        const r = decodePacket(bytes, o);
        if (r.ok) assert.ok(sameMessages(r.messages, messages), "a wrong message was returned");
        // One flipped bit (or an odd count of flips of one bit) is always caught by CRC32.
        if (flips.length === 1) assertRejected(r);
      },
    ),
    RUNS,
  );
});

Deno.test("an encrypted packet altered anywhere, CRC fixed up, is never accepted", () => {
  fc.assert(
    fc.property(messagesArb, fc.nat(), (messages, f) => {
      const bytes = encodePacket(messages, sealed);
      // Anywhere but the length field and the CRC itself (those fail structurally).
      const i = (f >> 3) % (bytes.length - 4);
      if (i >= 4 && i < 8) return;
      bytes[i] ^= 1 << (f & 7);
      assertRejected(decodePacket(fixCrc(bytes), sealed));
    }),
    RUNS,
  );
});

Deno.test("a packet of another cluster is rejected as foreign_cluster", () => {
  fc.assert(
    fc.property(messagesArb, fc.string({ minLength: 1 }), (messages, other) => {
      fc.pre(other !== "test");
      const bytes = encodePacket(messages, { ...plain, cluster: other });
      const r = decodePacket(bytes, plain);
      assertRejected(r);
      assert.equal(r.reason, "foreign_cluster");
    }),
    RUNS,
  );
});

Deno.test("a packet under another key is rejected as bad_key", () => {
  const other = Keyring.create([new Uint8Array(32).fill(3)]);
  fc.assert(
    fc.property(messagesArb, (messages) => {
      const r = decodePacket(
        encodePacket(messages, { ...plain, keyring: other }),
        sealed,
      );
      assertRejected(r);
      assert.equal(r.reason, "bad_key");
    }),
    { numRuns: 50 },
  );
});

Deno.test("keys and plaintext: who accepts what", () => {
  const msgs = fc.sample(messagesArb, { numRuns: 1, seed: 1 })[0];
  const p = encodePacket(msgs, plain);
  const s = encodePacket(msgs, sealed);
  const reason = (bytes: Uint8Array, o: Parameters<typeof decodePacket>[1]) => {
    const r = decodePacket(bytes, o);
    return r.ok ? "ok" : r.reason;
  };
  assert.equal(reason(p, sealed), "not_encrypted");
  assert.equal(reason(p, { ...sealed, acceptPlaintext: true }), "ok");
  assert.equal(reason(s, plain), "bad_key", "no keyring: encrypted packets are refused");
  assert.equal(reason(s, sealed), "ok");
});

Deno.test("header fields this version does not know are refused", () => {
  const body = new Uint8Array();
  const reason = (bytes: Uint8Array) => {
    const r = decodePacket(bytes, plain);
    return r.ok ? "ok" : r.reason;
  };
  assert.equal(reason(frame(body)), "ok");
  assert.equal(reason(frame(body, { version: 2 })), "unsupported_version");
  assert.equal(reason(frame(body, { flags: 4 })), "garbage");
  assert.equal(reason(frame(body, { magic: [0x47, 0x45] })), "garbage");
  assert.equal(reason(frame(body, { keyId: 5 })), "garbage", "plaintext with a key id");
  const long = frame(body);
  assert.equal(reason(new Uint8Array([...long, 0])), "garbage", "trailing bytes");
  assert.equal(reason(frame(new Uint8Array([0xff, 0xff]))), "garbage", "not protobuf");
  assert.equal(reason(frame(new Uint8Array([1, 2, 3]), { flags: 2 })), "garbage", "deflate");
});

Deno.test("size limits: a long packet and a decompression bomb are too_large", () => {
  const big = new Uint8Array(70_000);
  const r1 = decodePacket(big, plain);
  assert.equal(!r1.ok && r1.reason, "too_large");
  // 1 MiB of zeros as an Ack payload deflates to about 1 KiB.
  const payload = toAckBody(new Uint8Array(1 << 20));
  const bomb = frame(deflateRawSync(payload), { flags: 2 });
  assert.ok(bomb.length < 4096);
  const r2 = decodePacket(bomb, plain);
  assert.equal(!r2.ok && r2.reason, "too_large");
  const r3 = decodePacket(bomb, { ...plain, maxBytes: 2 << 20 });
  assert.ok(r3.ok, "accepted when the limit allows it");
  assert.equal(
    r3.messages[0].kind.case === "ack" && r3.messages[0].kind.value.payload.length,
    1 << 20,
  );
});

/** Compound{ messages: [Message{ ack: Ack{ payload } }] } by hand. */
function toAckBody(payload: Uint8Array): Uint8Array {
  const field = (tag: number, inner: Uint8Array) => [tag, ...varint(inner.length), ...inner];
  const ack = new Uint8Array(field(0x12, payload));
  const message = new Uint8Array(field(0x1a, ack));
  return new Uint8Array(field(0x0a, message));
}

function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return out;
}
