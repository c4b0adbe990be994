import assert from "node:assert/strict";
import {
  decodePacket,
  encodePacket,
  keyId,
  Keyring,
} from "../../../../src/discovery/gossip/wire/mod.ts";
import { EVERY_KIND, sameMessages } from "./_messages.ts";

const clock = { now: () => 1_700_000_000_000 };
const oldKey = new Uint8Array(32).fill(1);
const newKey = new Uint8Array(32).fill(2);
const msgs = [EVERY_KIND.alive, EVERY_KIND.ping];

function outcome(bytes: Uint8Array, keyring: Keyring): string {
  const r = decodePacket(bytes, { cluster: "c", keyring });
  if (!r.ok) return r.reason;
  assert.ok(sameMessages(r.messages, msgs));
  return "ok";
}

Deno.test("key rotation: the old key is accepted while listed, refused once removed", () => {
  const sender = Keyring.create([oldKey]);
  const receiver = Keyring.create([oldKey]);
  const send = () => encodePacket(msgs, { cluster: "c", clock, keyring: sender });

  // Step 1: every node adds the new key; senders still use the old one.
  receiver.add(newKey);
  sender.add(newKey);
  assert.equal(outcome(send(), receiver), "ok");
  // Step 2: nodes switch to the new key one by one; both keys are accepted meanwhile.
  const oldPacket = send();
  sender.use(newKey);
  const newPacket = send();
  assert.equal(new DataView(newPacket.buffer).getUint32(12), keyId(newKey));
  assert.equal(outcome(newPacket, receiver), "ok");
  assert.equal(outcome(oldPacket, receiver), "ok");
  // Step 3: the old key is removed everywhere; a packet under it is refused.
  receiver.use(newKey);
  assert.equal(receiver.remove(oldKey), true);
  assert.equal(outcome(oldPacket, receiver), "bad_key");
  assert.equal(outcome(newPacket, receiver), "ok");
  assert.deepEqual(receiver.ids(), [keyId(newKey)]);
});

Deno.test("Keyring: primary first, no duplicates, primary cannot be removed", () => {
  const ring = Keyring.create([oldKey, newKey, oldKey]);
  assert.deepEqual(ring.ids(), [keyId(oldKey), keyId(newKey)]);
  assert.equal(ring.primary.id, keyId(oldKey));
  assert.throws(() => ring.remove(oldKey), /use\(\) first/);
  assert.equal(ring.remove(new Uint8Array(16)), false);
  assert.throws(() => ring.use(new Uint8Array(16)), /add it before/);
});

Deno.test("Keyring refuses keys that are not AES-128/192/256", () => {
  assert.throws(() => Keyring.create([]), RangeError);
  for (const n of [0, 15, 31, 64]) {
    assert.throws(() => Keyring.create([new Uint8Array(n)]), /16, 24 or 32 bytes/);
  }
  for (const n of [16, 24, 32]) Keyring.create([new Uint8Array(n)]);
});

Deno.test("keyId is the first 4 bytes of SHA-256 of the key, big-endian", async () => {
  for (const key of [oldKey, newKey, new Uint8Array(24).fill(7)]) {
    const digest = await crypto.subtle.digest("SHA-256", key);
    assert.equal(keyId(key), new DataView(digest).getUint32(0));
  }
});

Deno.test("Keyring keeps its own copy of a key", () => {
  const key = new Uint8Array(24).fill(6);
  const ring = Keyring.create([key]);
  const packet = encodePacket(msgs, { cluster: "c", clock, keyring: ring });
  key.fill(0);
  assert.equal(outcome(packet, Keyring.create([new Uint8Array(24).fill(6)])), "ok");
  assert.equal(
    outcome(
      encodePacket(msgs, { cluster: "c", clock, keyring: ring }),
      Keyring.create([new Uint8Array(24).fill(6)]),
    ),
    "ok",
  );
});
