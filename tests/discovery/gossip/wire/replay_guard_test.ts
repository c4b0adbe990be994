import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import fc from "fast-check";
import { VirtualClock } from "../../../../src/core/mod.ts";
import {
  decodePacket,
  encodePacket,
  Keyring,
  ReplayGuard,
} from "../../../../src/discovery/gossip/wire/mod.ts";
import { EVERY_KIND } from "./_messages.ts";

const keyring = Keyring.create([new Uint8Array(32).fill(5)]);

function nonce(n: number): Uint8Array {
  const b = new Uint8Array(12);
  new DataView(b.buffer).setUint32(8, n);
  return b;
}

Deno.test("a replayed packet is refused; its first copy is accepted", () => {
  const clock = new VirtualClock();
  const replay = new ReplayGuard({ clock, windowMs: 10_000 });
  const opts = { cluster: "c", clock, keyring, replay };
  const bytes = encodePacket([EVERY_KIND.suspect], opts);
  const first = decodePacket(bytes, opts);
  assert.ok(first.ok);
  const again = decodePacket(bytes, opts);
  assert.equal(!again.ok && again.reason, "replayed");
  // Still refused later in the window, and as stale after it.
  clock.advance(9_000);
  const later = decodePacket(bytes, opts);
  assert.equal(!later.ok && later.reason, "replayed");
  clock.advance(2_000);
  const old = decodePacket(bytes, opts);
  assert.equal(!old.ok && old.reason, "stale");
});

Deno.test("a forged packet does not use up the nonce of the real one", () => {
  const clock = new VirtualClock();
  const replay = new ReplayGuard({ clock });
  const opts = { cluster: "c", clock, keyring, replay };
  const bytes = encodePacket([EVERY_KIND.dead], opts);
  const forged = bytes.slice();
  forged[40] ^= 1;
  new DataView(forged.buffer).setUint32(forged.length - 4, crc32(forged.subarray(0, -4)));
  const r = decodePacket(forged, opts);
  assert.equal(!r.ok && r.reason, "bad_key");
  assert.ok((decodePacket(bytes, opts)).ok);
});

Deno.test("packets from a sender whose clock is off by more than the window are stale", () => {
  const clock = new VirtualClock();
  const ahead = { now: () => clock.now() + 31_000 };
  const behind = { now: () => clock.now() - 31_000 };
  const replay = new ReplayGuard({ clock });
  for (const sender of [ahead, behind]) {
    const bytes = encodePacket([EVERY_KIND.leave], { cluster: "c", clock: sender, keyring });
    const r = decodePacket(bytes, { cluster: "c", keyring, replay });
    assert.equal(!r.ok && r.reason, "stale");
  }
});

Deno.test("ReplayGuard accepts each nonce once, whatever the order", () => {
  fc.assert(
    fc.property(fc.array(fc.nat({ max: 50 }), { maxLength: 200 }), (ids) => {
      const clock = new VirtualClock();
      const guard = new ReplayGuard({ clock });
      const seen = new Set<number>();
      for (const id of ids) {
        const verdict = guard.check(clock.now(), nonce(id));
        assert.equal(verdict, seen.has(id) ? "replayed" : "fresh");
        seen.add(id);
      }
    }),
  );
});

Deno.test("ReplayGuard stays bounded and safe under a flood", () => {
  const clock = new VirtualClock();
  const guard = new ReplayGuard({ clock, maxEntries: 100 });
  const t0 = clock.now();
  for (let i = 0; i < 1000; i++) {
    assert.equal(guard.check(t0 + i, nonce(i)), "fresh");
  }
  assert.equal(guard.size, 100);
  // A forgotten nonce is not accepted again: its send time is below the floor.
  assert.equal(guard.check(t0 + 5, nonce(5)), "stale");
  assert.equal(guard.check(t0 + 999, nonce(999)), "replayed");
  // Nonces expire with the window.
  clock.advance(60_000);
  assert.equal(guard.check(clock.now(), nonce(1)), "fresh");
  assert.equal(guard.size, 1);
});

Deno.test("ReplayGuard refuses options that are not positive integers", () => {
  const clock = new VirtualClock();
  assert.throws(() => new ReplayGuard({ clock, windowMs: 0 }), /windowMs/);
  assert.throws(() => new ReplayGuard({ clock, maxEntries: 1.5 }), /maxEntries/);
});
