import assert from "node:assert/strict";
import { HpackDecoder } from "../../../src/dataplane/http2/hpack_decoder.ts";
import { HpackEncoder } from "../../../src/dataplane/http2/hpack_encoder.ts";
import { toHex } from "./_hpack_helpers.ts";

/** The kind of representation that a block's first octet starts (RFC 7541 §6). */
function kind(first: number): string {
  if (first >= 0x80) return "indexed";
  if (first >= 0x40) return "incremental";
  if (first >= 0x20) return "size update";
  if (first >= 0x10) return "never indexed";
  return "without indexing";
}

/** Encodes one field on a fresh encoder and returns its representation kind and block. */
function single(name: string, value: string, tableSize = 4096): [string, Uint8Array] {
  const encoder = new HpackEncoder(tableSize);
  const block = encoder.encode([name, value]).slice();
  assert.deepEqual(new HpackDecoder(tableSize).decode(block), [name, value]);
  return [kind(block[0]), block];
}

Deno.test("exact static matches are one octet", () => {
  const encoder = new HpackEncoder();
  const block = encoder.encode([
    ":method",
    "GET",
    ":method",
    "POST",
    ":path",
    "/",
    ":scheme",
    "https",
    ":status",
    "200",
    ":status",
    "404",
    "accept-encoding",
    "gzip, deflate",
    "www-authenticate",
    "",
  ]);
  assert.equal(toHex(block), "82838487888d90bd");
  assert.equal(encoder.tableSize, 0);
});

Deno.test("other fields are indexed and the next block refers to them in one octet each", () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  const fields = [
    ":method",
    "POST",
    ":path",
    "/pkg.Svc/Method",
    "content-type",
    "application/grpc",
  ];
  const first = encoder.encode(fields).slice();
  // :path and content-type are literals with incremental indexing and static names 4, 31.
  assert.equal(first[1], 0x44);
  assert.deepEqual(decoder.decode(first), fields);
  const second = encoder.encode(fields);
  // content-type was added last, so it is 62; :path is 63.
  assert.equal(toHex(second), "83bfbe");
  assert.deepEqual(decoder.decode(second), fields);
});

Deno.test("a literal name comes from the dynamic table when only it has the name", () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  decoder.decode(encoder.encode(["x-trace", "1"]));
  const block = encoder.encode(["x-trace", "2"]);
  assert.equal(toHex(block), "7e0132"); // incremental, name index 62, raw "2"
  assert.deepEqual(decoder.decode(block), ["x-trace", "2"]);
});

Deno.test("credentials are never indexed and never enter the table", () => {
  for (
    const [name, value] of [
      ["authorization", "Bearer abc.def"],
      ["proxy-authorization", "Basic dXNlcjpwYXNz"],
      ["set-cookie", "session=0123456789abcdef0123456789abcdef; HttpOnly"],
      ["cookie", "sid=1234567890abcde"], // 19 octets
    ]
  ) {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    for (let i = 0; i < 2; i++) {
      const block = encoder.encode([name, value]);
      assert.equal(kind(block[0]), "never indexed", `${name} #${i + 1}`);
      assert.deepEqual(decoder.decode(block), [name, value]);
    }
    assert.equal(encoder.tableSize, 0, name);
  }
});

Deno.test("cookie values of 20 octets or more are indexed", () => {
  assert.equal(single("cookie", "sid=1234567890abcdef")[0], "incremental");
  assert.equal(single("cookie", "sid=1234567890abcde")[0], "never indexed");
});

Deno.test("entries over a quarter of the table are literals without indexing", () => {
  // name 1 + value 991 + 32 = 1024 = 4096 / 4 is indexed, one more octet is not.
  assert.equal(single("x", "v".repeat(991))[0], "incremental");
  assert.equal(single("x", "v".repeat(992))[0], "without indexing");
  assert.equal(single("x", "v", 100)[0], "without indexing"); // 34 > 25
  assert.equal(single("x", "", 0)[0], "without indexing");
  const encoder = new HpackEncoder();
  encoder.encode(["x-big", "v".repeat(5000)]);
  assert.equal(encoder.tableSize, 0);
});

Deno.test("strings are Huffman-coded only when that is shorter", () => {
  // "www.example.com": 12 octets coded instead of 15 (H bit set on the length).
  assert.equal(toHex(single(":authority", "www.example.com")[1]), "418cf1e3c2e5f23a6ba0ab90f4ff");
  // Octets above 0x7f have long codes: sent raw.
  assert.equal(toHex(single("x-bin", "\xff\xfe")[1]), "40" + "84f2b466ab" + "02fffe");
});

Deno.test("setMaxTableSize sends the update at the start of the next block only", () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  decoder.decode(encoder.encode(["x-a", "1", "x-b", "2"]));
  encoder.setMaxTableSize(1337);
  decoder.setMaxTableSize(1337);
  const block = encoder.encode([":method", "GET"]);
  // RFC 7541 C.1.2: 1337 with a 5-bit prefix is 1f 9a 0a.
  assert.equal(toHex(block), "3f9a0a82");
  assert.deepEqual(decoder.decode(block), [":method", "GET"]);
  assert.equal(decoder.tableCapacity, 1337);
  assert.equal(toHex(encoder.encode([":method", "GET"])), "82");
});

Deno.test("lowering the size evicts; a dip and rise sends the smallest first", () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  decoder.decode(encoder.encode(["x-a", "1", "x-b", "2"]));
  assert.equal(encoder.tableSize, 72);
  encoder.setMaxTableSize(40);
  decoder.setMaxTableSize(40);
  const down = encoder.encode(["x-b", "2"]);
  assert.equal(toHex(down), "3f09be", "update to 40, then x-b from the table");
  assert.deepEqual(decoder.decode(down), ["x-b", "2"]);
  assert.equal(encoder.tableSize, 36);

  for (const size of [0, 4096]) {
    encoder.setMaxTableSize(size);
    decoder.setMaxTableSize(size);
  }
  const dip = encoder.encode(["x-b", "2"]);
  assert.equal(toHex(dip.subarray(0, 4)), "203fe11f", "update to 0, then to 4096");
  assert.deepEqual(decoder.decode(dip), ["x-b", "2"]);
  assert.equal(encoder.tableSize, 36, "x-b was added again");
});

Deno.test("a dip back to the size in use still sends both updates", () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  decoder.decode(encoder.encode(["x-a", "1"]));
  for (const size of [0, 4096]) {
    encoder.setMaxTableSize(size);
    decoder.setMaxTableSize(size);
  }
  const block = encoder.encode(["x-a", "1"]);
  assert.equal(toHex(block.subarray(0, 4)), "203fe11f");
  assert.deepEqual(decoder.decode(block), ["x-a", "1"]);
  assert.equal(decoder.tableCapacity, 4096);
  // Setting the size in use again changes nothing.
  encoder.setMaxTableSize(4096);
  assert.equal(toHex(encoder.encode([":method", "GET"])), "82");
});

Deno.test("the table never grows past the constructor's size", () => {
  const encoder = new HpackEncoder(4096);
  encoder.setMaxTableSize(65536);
  assert.equal(toHex(encoder.encode([":method", "GET"])), "82", "no update needed");
  encoder.encode(["x", "v".repeat(991)]);
  encoder.encode(["y", "v".repeat(991)]);
  encoder.encode(["z", "v".repeat(991)]);
  encoder.encode(["w", "v".repeat(991)]);
  encoder.encode(["u", "v".repeat(991)]);
  assert.equal(encoder.tableSize, 4096);
  assert.throws(() => encoder.setMaxTableSize(-1), RangeError);
  assert.throws(() => new HpackEncoder(0.5), RangeError);
});

Deno.test("encode writes into a given buffer at an offset", () => {
  const encoder = new HpackEncoder();
  const out = new Uint8Array(128).fill(0xee);
  const view = encoder.encode([":method", "GET", "x-a", "b"], out, 9);
  assert.equal(view.buffer, out.buffer);
  assert.equal(view.byteOffset, 9);
  assert.equal(out[8], 0xee);
  assert.deepEqual(new HpackDecoder().decode(out, 9, 9 + view.length), [
    ":method",
    "GET",
    "x-a",
    "b",
  ]);
});

Deno.test("a buffer with too little room is refused before anything changes", () => {
  const encoder = new HpackEncoder();
  const fields = ["x-a", "b"];
  const need = HpackEncoder.maxEncodedLength(fields);
  assert.throws(() => encoder.encode(fields, new Uint8Array(need - 1)), RangeError);
  assert.throws(() => encoder.encode(fields, new Uint8Array(need), 1), RangeError);
  assert.equal(encoder.tableSize, 0);
  assert.equal(kind(encoder.encode(fields, new Uint8Array(need))[0]), "incremental");
});

Deno.test("an odd-length header list is a TypeError", () => {
  assert.throws(() => new HpackEncoder().encode([":method"]), /odd length 1/);
});

Deno.test("a char above U+00FF before any insertion leaves the encoder usable", () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  encoder.setMaxTableSize(100);
  decoder.setMaxTableSize(100);
  assert.throws(() => encoder.encode([":method", "GET", "x-a", "\u20ac"]), TypeError);
  // The size update was not sent, so the next block still carries it.
  const block = encoder.encode(["x-a", "1"]);
  assert.equal(kind(block[0]), "size update");
  assert.deepEqual(decoder.decode(block), ["x-a", "1"]);
});

Deno.test("a char above U+00FF after an insertion breaks the encoder for good", () => {
  const encoder = new HpackEncoder();
  assert.throws(() => encoder.encode(["x-a", "1", "x-b", "\u0100"]), /U\+0100/);
  assert.throws(() => encoder.encode([":method", "GET"]), /out of step/);
});

Deno.test("the returned block is a view that the next encode reuses", () => {
  const encoder = new HpackEncoder();
  const first = encoder.encode(["x-a", "1"]);
  const copy = first.slice();
  const second = encoder.encode([":status", "500"]);
  assert.equal(second.buffer, first.buffer);
  assert.notDeepEqual(first, copy, "documented: the first view was overwritten");
});
