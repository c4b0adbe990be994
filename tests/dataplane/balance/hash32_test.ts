import assert from "node:assert/strict";
import fc from "fast-check";
import { fmix32, fnv1a32, FNV1A32_OFFSET, hash32 } from "../../../src/dataplane/balance/mod.ts";

/** FNV-1a straight from its definition, over bytes. */
function reference(bytes: Uint8Array): number {
  let h = FNV1A32_OFFSET;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

Deno.test("fnv1a32 matches the published FNV-1a test vectors", () => {
  const table: [string, number][] = [
    ["", 0x811c9dc5],
    ["a", 0xe40c292c],
    ["b", 0xe70c2de5],
    ["foobar", 0xbf9cf968],
  ];
  for (const [text, want] of table) assert.equal(fnv1a32(text), want, JSON.stringify(text));
});

Deno.test("fnv1a32 hashes the UTF-8 bytes, as TextEncoder writes them", () => {
  const encoder = new TextEncoder();
  const table = ["é", "€", "😀", "a\u0000b", "\ud800", "x\udc00y", "\ud83d", "ü😀€\udfff"];
  for (const text of table) {
    assert.equal(fnv1a32(text), reference(encoder.encode(text)), JSON.stringify(text));
  }
  const codeUnits = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 24 })
    .map((units) => String.fromCharCode(...units));
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: "binary" }), codeUnits), (text) => {
      assert.equal(fnv1a32(text), reference(encoder.encode(text)));
    }),
    { seed: 7, numRuns: 500 },
  );
});

Deno.test("fnv1a32 continues from a previous state", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), (a, b) => {
      assert.equal(fnv1a32(b, fnv1a32(a)), fnv1a32(a + b));
    }),
    { seed: 8, numRuns: 500 },
  );
});

Deno.test("fmix32 matches MurmurHash3's finalizer", () => {
  const table: [number, number][] = [
    [0, 0],
    [1, 0x514e28b7],
    [0xffffffff, 0x81f16f39],
  ];
  for (const [input, want] of table) assert.equal(fmix32(input), want, `fmix32(${input})`);
});

Deno.test("hash32 is fmix32 of fnv1a32 and spreads similar keys", () => {
  assert.equal(hash32("user-1"), fmix32(fnv1a32("user-1")));
  // Keys differing in their last character should land all over the 32-bit range.
  const buckets = new Array(16).fill(0);
  for (let i = 0; i < 16_000; i++) buckets[hash32(`user-${i}`) >>> 28]++;
  for (const count of buckets) assert.ok(count > 800 && count < 1200, `bucket of ${count}`);
});
