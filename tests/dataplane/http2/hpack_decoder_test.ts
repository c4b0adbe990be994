import assert from "node:assert/strict";
import { HpackDecoder } from "../../../src/dataplane/http2/hpack_decoder.ts";
import { HpackEncoder } from "../../../src/dataplane/http2/hpack_encoder.ts";
import { HpackError } from "../../../src/dataplane/http2/hpack_error.ts";
import { block, hex, int, str } from "./_hpack_helpers.ts";

/** Asserts that decoding `bytes` fails as a malformed block whose message matches `message`. */
function rejects(decoder: HpackDecoder, bytes: Uint8Array, message: RegExp): void {
  assert.throws(
    () => decoder.decode(bytes),
    (err) => err instanceof HpackError && !err.tooLarge && message.test(err.message),
  );
}

const INCREMENTAL = 0x40;
const WITHOUT = 0x00;
const NEVER = 0x10;

Deno.test("decode reads all three literal kinds with new and indexed names", () => {
  const decoder = new HpackDecoder();
  const fields = decoder.decode(block(
    int(INCREMENTAL, 6, 0),
    str("x-new"),
    str("one"),
    int(WITHOUT, 4, 31), // content-type (static 31)
    str("text/plain"),
    int(NEVER, 4, 62), // x-new from the dynamic table
    str("two"),
    int(NEVER, 4, 0),
    str("x-secret"),
    str("s"),
  ));
  assert.deepEqual(fields, [
    "x-new",
    "one",
    "content-type",
    "text/plain",
    "x-new",
    "two",
    "x-secret",
    "s",
  ]);
  assert.equal(decoder.tableSize, 5 + 3 + 32, "only the incremental literal is stored");
});

Deno.test("decode keeps names as received and values as one char per octet", () => {
  const decoder = new HpackDecoder();
  const octets = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
  const fields = decoder.decode(block(int(WITHOUT, 4, 0), str("X-Upper"), str(octets)));
  assert.deepEqual(fields, ["X-Upper", octets]);
});

Deno.test("values far longer than a chunk of the string builder decode whole", () => {
  const value = Array.from({ length: 20_000 }, (_, i) => String.fromCharCode((i * 7) % 256))
    .join("");
  const encoder = new HpackEncoder(0);
  const decoder = new HpackDecoder(0);
  for (const text of [value, "a".repeat(20_000)]) {
    // Raw octets (the first, whose Huffman form is longer) and Huffman (the second).
    assert.deepEqual(decoder.decode(encoder.encode(["x-big", text])), ["x-big", text]);
  }
});

Deno.test("decode reads only start..end of a larger buffer", () => {
  const decoder = new HpackDecoder();
  const buf = new Uint8Array([0x40, 0x82, 0x86, 0x40]);
  assert.deepEqual(decoder.decode(buf, 1, 3), [":method", "GET", ":scheme", "http"]);
  assert.deepEqual(decoder.decode(buf, 2, 2), []);
  assert.throws(() => decoder.decode(buf, 3, 5), RangeError);
});

Deno.test("static index 61 is the last one; 62 needs a dynamic entry", () => {
  const decoder = new HpackDecoder();
  assert.deepEqual(decoder.decode(hex("bd")), ["www-authenticate", ""]);
  rejects(decoder, hex("be"), /Index 62 is beyond the 61 static and 0 dynamic/);
});

Deno.test("index 0 is rejected in an indexed field", () => {
  rejects(new HpackDecoder(), hex("80"), /index 0/);
});

Deno.test("an out-of-range index is rejected in a field and in a literal's name", () => {
  const decoder = new HpackDecoder();
  decoder.decode(block(int(INCREMENTAL, 6, 0), str("a"), str("b")));
  assert.deepEqual(decoder.decode(hex("be")), ["a", "b"]);
  rejects(decoder, hex("bf"), /Index 63 is beyond the 61 static and 1 dynamic/);
  rejects(new HpackDecoder(), block(int(INCREMENTAL, 6, 62), str("v")), /Index 62/);
  rejects(new HpackDecoder(), block(int(WITHOUT, 4, 70), str("v")), /Index 70/);
  rejects(new HpackDecoder(), block(int(0x80, 7, 0x7fffffff)), /Index 2147483647 is beyond/);
});

Deno.test("a truncated integer is rejected", () => {
  for (const dump of ["ff", "ff 80", "ff ff ff", "7f", "1f 9a", "3f"]) {
    rejects(new HpackDecoder(), hex(dump), /ends inside an integer/);
  }
});

Deno.test("integers of 2^31 and more, or over five continuation octets, are rejected", () => {
  rejects(new HpackDecoder(), block(int(0x80, 7, 2 ** 31)), /exceeds 2147483647/);
  rejects(new HpackDecoder(), hex("ff ff ff ff ff 0f"), /exceeds/);
  // 127 + 0 with six continuation octets: over-long though small.
  rejects(new HpackDecoder(), hex("ff 80 80 80 80 80 00"), /exceeds/);
  // Five continuation octets are fine: 127 + 0 = index 127, merely out of range.
  rejects(new HpackDecoder(), hex("ff 80 80 80 80 00"), /Index 127 is beyond/);
  // A string length of 2^32 + 5 must not wrap around to 5.
  rejects(
    new HpackDecoder(),
    block(0x00, int(0, 7, 2 ** 32 + 5), [..."abcde"].map((c) => c.charCodeAt(0))),
    /exceeds/,
  );
});

Deno.test("a string literal longer than the rest of the block is rejected", () => {
  rejects(new HpackDecoder(), hex("40 05 61 62"), /String literal of 5 octets runs past/);
  rejects(new HpackDecoder(), block(0x41, 0x83, 0xf1, 0xe3), /3 octets runs past/);
  rejects(new HpackDecoder(), hex("40"), /ends before a string literal/);
  rejects(new HpackDecoder(), hex("41"), /ends before a string literal/);
  rejects(new HpackDecoder(), block(0x40, str("name")), /ends before a string literal/);
});

Deno.test("bad Huffman padding or EOS in a literal is rejected", () => {
  rejects(new HpackDecoder(), block(0x41, 0x81, 0xff), /8 bits of padding/);
  rejects(new HpackDecoder(), block(0x41, 0x81, 0x18), /not all ones/);
  rejects(new HpackDecoder(), block(0x00, 0x84, 0xff, 0xff, 0xff, 0xff, str("v")), /EOS/);
  assert.deepEqual(new HpackDecoder().decode(block(0x41, 0x81, 0x1f)), [":authority", "a"]);
});

Deno.test("size updates at the start of a block resize and evict the table", () => {
  const decoder = new HpackDecoder();
  decoder.decode(
    block(int(INCREMENTAL, 6, 0), str("a"), str("1"), int(INCREMENTAL, 6, 0), str("b"), str("2")),
  );
  assert.equal(decoder.tableSize, 68);
  // Down to 40 octets: only the newest entry ("b") is left.
  assert.deepEqual(decoder.decode(block(int(0x20, 5, 40), 0xbe)), ["b", "2"]);
  assert.equal(decoder.tableCapacity, 40);
  assert.equal(decoder.tableSize, 34);
  // To 0 and back in one block: empty, then room again.
  assert.deepEqual(
    decoder.decode(block(0x20, int(0x20, 5, 4096), int(INCREMENTAL, 6, 0), str("c"), str("3"))),
    ["c", "3"],
  );
  assert.deepEqual(decoder.decode(hex("be")), ["c", "3"]);
  rejects(decoder, hex("bf"), /beyond/);
});

Deno.test("an entry larger than the table empties it and is not stored", () => {
  const decoder = new HpackDecoder(64);
  decoder.decode(block(int(INCREMENTAL, 6, 0), str("a"), str("1")));
  assert.equal(decoder.tableSize, 34);
  const big = "x".repeat(32); // 1 + 32 + 32 = 65 > 64
  assert.deepEqual(decoder.decode(block(int(INCREMENTAL, 6, 0), str("a"), str(big))), ["a", big]);
  assert.equal(decoder.tableSize, 0);
  rejects(decoder, hex("be"), /beyond/);
});

Deno.test("a size update above SETTINGS_HEADER_TABLE_SIZE is rejected", () => {
  rejects(new HpackDecoder(), block(int(0x20, 5, 4097)), /update to 4097 octets exceeds the 4096/);
  const decoder = new HpackDecoder(100);
  assert.deepEqual(decoder.decode(block(int(0x20, 5, 100), 0x82)), [":method", "GET"]);
  rejects(decoder, block(int(0x20, 5, 101)), /exceeds the 100/);
});

Deno.test("a size update after the first field is rejected", () => {
  rejects(new HpackDecoder(), hex("82 20"), /after the first field/);
  rejects(new HpackDecoder(), block(0x82, int(0x20, 5, 4096), 0x82), /after the first field/);
});

Deno.test("more than two size updates at the start of a block are rejected", () => {
  assert.deepEqual(new HpackDecoder().decode(hex("20 20 82")), [":method", "GET"]);
  rejects(new HpackDecoder(), hex("20 20 20 82"), /more than two/);
});

Deno.test("after setMaxTableSize lowers the limit the next block must start with an update", () => {
  const decoder = new HpackDecoder();
  decoder.setMaxTableSize(100);
  rejects(decoder, hex("82"), /lacks the dynamic table size update to at most 100/);

  const ok = new HpackDecoder();
  ok.setMaxTableSize(100);
  assert.deepEqual(ok.decode(block(int(0x20, 5, 100), 0x82)), [":method", "GET"]);
  assert.deepEqual(ok.decode(hex("82")), [":method", "GET"], "owed only once");
  rejects(ok, block(int(0x20, 5, 101)), /exceeds the 100/);

  // Lowered to 0 then raised: the smallest must be announced before the final size.
  const dip = new HpackDecoder();
  dip.setMaxTableSize(0);
  dip.setMaxTableSize(4096);
  rejects(dip, block(int(0x20, 5, 4096), 0x82), /at most 0/);
  const dip2 = new HpackDecoder();
  dip2.setMaxTableSize(0);
  dip2.setMaxTableSize(4096);
  assert.deepEqual(dip2.decode(block(0x20, int(0x20, 5, 4096), 0x82)), [":method", "GET"]);
  assert.equal(dip2.tableCapacity, 4096);
});

Deno.test("raising the limit needs no update but allows a larger one", () => {
  const decoder = new HpackDecoder();
  decoder.setMaxTableSize(8192);
  assert.deepEqual(decoder.decode(hex("82")), [":method", "GET"]);
  assert.equal(decoder.tableCapacity, 4096);
  decoder.decode(block(int(0x20, 5, 8192)));
  assert.equal(decoder.tableCapacity, 8192);
  assert.throws(() => decoder.setMaxTableSize(-1), RangeError);
});

Deno.test("a header list over maxHeaderListSize throws tooLarge and keeps the table in step", () => {
  // Each field "a: 1" counts 1 + 1 + 32 = 34 octets: three fit in 102, four do not.
  const decoder = new HpackDecoder(4096, 102);
  const field = (name: string) => [int(INCREMENTAL, 6, 0), str(name), str("1")];
  assert.deepEqual(decoder.decode(block(...field("a"), ...field("b"), ...field("c"))), [
    "a",
    "1",
    "b",
    "1",
    "c",
    "1",
  ]);
  assert.throws(
    () => decoder.decode(block(...field("d"), ...field("e"), ...field("f"), ...field("g"))),
    (err) => err instanceof HpackError && err.tooLarge && /102 octets/.test(err.message),
  );
  // "g", stored after the limit was crossed, is the newest entry; "a" is still at the end.
  assert.deepEqual(decoder.decode(hex("be c4")), ["g", "1", "a", "1"]);
  assert.equal(decoder.tableSize, 7 * 34);
});

Deno.test("a block of many references to one large entry stops at maxHeaderListSize", () => {
  const decoder = new HpackDecoder(4096, 16 * 1024);
  const value = "v".repeat(1000);
  decoder.decode(block(int(INCREMENTAL, 6, 0), str("k"), str(value)));
  const bomb = new Uint8Array(10_000).fill(0xbe); // 10 MB of header list
  assert.throws(() => decoder.decode(bomb), (err) => err instanceof HpackError && err.tooLarge);
  assert.deepEqual(decoder.decode(hex("be")), ["k", value]);
});

Deno.test("the constructor rejects sizes that are not integers in range", () => {
  assert.throws(() => new HpackDecoder(-1), RangeError);
  assert.throws(() => new HpackDecoder(4096, 1.5), RangeError);
  assert.throws(() => new HpackDecoder(2 ** 31), RangeError);
});
