import assert from "node:assert/strict";
import fc from "fast-check";
import { HpackError } from "../../../src/dataplane/http2/hpack_error.ts";
import {
  huffmanDecode,
  huffmanEncode,
  huffmanEncodedLength,
  huffmanMaxDecodedLength,
} from "../../../src/dataplane/http2/huffman.ts";
import { hex, toHex } from "./_hpack_helpers.ts";

function encode(text: string): Uint8Array {
  const out = new Uint8Array(huffmanEncodedLength(text) + 8).fill(0xaa);
  const end = huffmanEncode(text, out, 3);
  assert.equal(end - 3, huffmanEncodedLength(text), "encoded length");
  assert.equal(out[end], 0xaa, "wrote past the encoded length");
  return out.subarray(3, end);
}

function decode(bytes: Uint8Array): string {
  // Decode from the middle of a larger buffer, as the decoder does with a block.
  const src = new Uint8Array(bytes.length + 4).fill(0x55);
  src.set(bytes, 2);
  const dst = new Uint8Array(huffmanMaxDecodedLength(bytes.length));
  const n = huffmanDecode(src, 2, 2 + bytes.length, dst);
  return String.fromCharCode(...dst.subarray(0, n));
}

function latin1(octets: number[]): string {
  return String.fromCharCode(...octets);
}

// The Huffman-coded strings of RFC 7541 Appendix C.4 and C.6, and codes from Appendix B
// for octets outside printable ASCII: 0x00 (13 bits), LF (30 bits), 0xff (26 bits).
const VECTORS: [string, string][] = [
  ["www.example.com", "f1e3 c2e5 f23a 6ba0 ab90 f4ff"],
  ["no-cache", "a8eb 1064 9cbf"],
  ["custom-key", "25a8 49e9 5ba9 7d7f"],
  ["custom-value", "25a8 49e9 5bb8 e8b4 bf"],
  ["302", "6402"],
  ["307", "640e ff"],
  ["private", "aec3 771a 4b"],
  ["Mon, 21 Oct 2013 20:13:21 GMT", "d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff"],
  ["https://www.example.com", "9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3"],
  ["gzip", "9bd9 ab"],
  [
    "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
    "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 " +
    "03ed 4ee5 b106 3d50 07",
  ],
  ["a", "1f"],
  ["\x00", "ffc7"],
  ["\n", "ffff fff3"],
  ["\xff", "ffff fbbf"],
  ["\x00\xff\n\r", "ffc7 ffff ddff ffff e7ff ffff bf"],
  ["", ""],
];

Deno.test("huffmanEncode writes the codes of RFC 7541 Appendix B", () => {
  for (const [text, code] of VECTORS) {
    assert.equal(toHex(encode(text)), toHex(hex(code)), JSON.stringify(text));
  }
});

// Code lengths of octets 0–255 and EOS in RFC 7541 Appendix B, one base-36 digit each.
const RFC_LENGTHS = "dnsssssssoussussssssssusssssssss6aacd68baa8b8666555666666678f6ca" +
  "d67777777777777777777777878djde6f56565666577666567655677777fbeds" +
  "kmkkmmmnmnnnnnonoomnonnnnlmnmnnomlkmmnnlnmmolmnnllmlnmnnkmmmnmmn" +
  "qqkjmnmpqqqrrqopjlqrrqrollqqsrrrkoklmllnmmppooqnqrqqrrrrrsrrrrrq" +
  "u";

Deno.test("every octet's code is the canonical Huffman code of the RFC's lengths", () => {
  const lengths = Array.from(RFC_LENGTHS, (digit) => parseInt(digit, 36));
  // Canonical code: symbols by (length, value) get consecutive codes (RFC 7541 Appendix B).
  const order = lengths.map((_, sym) => sym).sort((a, b) => lengths[a] - lengths[b] || a - b);
  const expected: number[] = [];
  let code = 0;
  for (const [i, sym] of order.entries()) {
    if (i > 0) code = (code + 1) * 2 ** (lengths[sym] - lengths[order[i - 1]]);
    expected[sym] = code;
  }
  assert.equal(expected[256], 2 ** 30 - 1, "EOS is 30 ones");
  for (let octet = 0; octet < 256; octet++) {
    // Eight copies fill whole octets with no padding: length in octets = code length in bits.
    const bytes = encode(String.fromCharCode(octet).repeat(8));
    assert.equal(bytes.length, lengths[octet], `length of 0x${octet.toString(16)}`);
    let bits = 0;
    for (let i = 0; i < lengths[octet]; i++) {
      bits = bits * 2 + ((bytes[i >> 3] >> (7 - (i & 7))) & 1);
    }
    assert.equal(bits, expected[octet], `code of 0x${octet.toString(16)}`);
  }
});

Deno.test("huffmanDecode reads the codes of RFC 7541 Appendix B", () => {
  for (const [text, code] of VECTORS) assert.equal(decode(hex(code)), text);
});

Deno.test("every octet round-trips alone and in a run of all 256", () => {
  const all = Array.from({ length: 256 }, (_, i) => i);
  for (const octet of all) assert.equal(decode(encode(latin1([octet]))), latin1([octet]));
  const text = latin1(all) + latin1(all.toReversed());
  assert.equal(decode(encode(text)), text);
});

Deno.test("random Latin-1 strings round-trip and never decode past the length bound", () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 300 }), (octets) => {
      const text = latin1(octets);
      const coded = encode(text);
      assert.ok(text.length <= huffmanMaxDecodedLength(coded.length));
      assert.equal(decode(coded), text);
    }),
    { numRuns: 500 },
  );
});

Deno.test("huffmanDecode rejects padding longer than 7 bits", () => {
  // "www.example.com" ends in 7 padding bits, the most allowed; one more octet makes 15.
  assert.throws(() => decode(hex("f1e3 c2e5 f23a 6ba0 ab90 f4ff ff")), /15 bits of padding/);
  // Eight ones alone: a whole octet of padding.
  assert.throws(
    () => decode(hex("ff")),
    (err) => err instanceof HpackError && /8 bits/.test(err.message),
  );
});

Deno.test("huffmanDecode rejects padding that is not all ones", () => {
  assert.equal(decode(hex("1f")), "a"); // 00011 + padding 111
  for (const bad of ["18", "1e", "1c", "f1e3 c2e5 f23a 6ba0 ab90 f4fe"]) {
    assert.throws(() => decode(hex(bad)), HpackError, bad);
  }
});

Deno.test("huffmanDecode rejects a string that ends inside a code", () => {
  // 0xfe starts 8+-bit codes but completes none of them.
  assert.throws(() => decode(hex("fe")), /ends inside a code/);
  // The first 3 of the 4 octets of LF's 30-bit code.
  assert.throws(() => decode(hex("ffff ff")), HpackError);
});

Deno.test("huffmanDecode rejects the EOS symbol anywhere in the string", () => {
  // EOS is 30 ones: 0x3fffffff.
  assert.throws(() => decode(hex("ffff ffff")), /EOS/);
  assert.throws(() => decode(hex("1fff ffff ff")), /EOS/); // 'a' then EOS, then padding
  assert.throws(() => decode(hex("ffff fffc 1f")), /EOS/); // EOS then 2 bits and 'a'
});

Deno.test("Huffman encoding rejects chars above U+00FF", () => {
  assert.throws(() => huffmanEncodedLength("caf\u00e9\u0100"), TypeError);
  assert.throws(() => huffmanEncode("\u20ac", new Uint8Array(8), 0), /U\+20AC/);
});
