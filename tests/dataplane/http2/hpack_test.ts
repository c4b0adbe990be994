// RFC 7541 Appendix C: every example block decoded byte for byte, and the same header lists
// through our encoder and back.
import assert from "node:assert/strict";
import { HpackDecoder } from "../../../src/dataplane/http2/hpack_decoder.ts";
import { HpackEncoder } from "../../../src/dataplane/http2/hpack_encoder.ts";
import { hex, toHex } from "./_hpack_helpers.ts";

interface Step {
  block: string;
  fields: string[];
  /** Dynamic table after the block, newest first. */
  table: string[];
  size: number;
}

const REQ1 = [":method", "GET", ":scheme", "http", ":path", "/", ":authority", "www.example.com"];
const REQ2 = [
  ":method",
  "GET",
  ":scheme",
  "http",
  ":path",
  "/",
  ":authority",
  "www.example.com",
  "cache-control",
  "no-cache",
];
const REQ3 = [
  ":method",
  "GET",
  ":scheme",
  "https",
  ":path",
  "/index.html",
  ":authority",
  "www.example.com",
  "custom-key",
  "custom-value",
];
const RES1 = [
  ":status",
  "302",
  "cache-control",
  "private",
  "date",
  "Mon, 21 Oct 2013 20:13:21 GMT",
  "location",
  "https://www.example.com",
];
const RES2 = [
  ":status",
  "307",
  "cache-control",
  "private",
  "date",
  "Mon, 21 Oct 2013 20:13:21 GMT",
  "location",
  "https://www.example.com",
];
const COOKIE = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";
const RES3 = [
  ":status",
  "200",
  "cache-control",
  "private",
  "date",
  "Mon, 21 Oct 2013 20:13:22 GMT",
  "location",
  "https://www.example.com",
  "content-encoding",
  "gzip",
  "set-cookie",
  COOKIE,
];

const REQ_TABLES = [
  [":authority", "www.example.com"],
  ["cache-control", "no-cache", ":authority", "www.example.com"],
  ["custom-key", "custom-value", "cache-control", "no-cache", ":authority", "www.example.com"],
];
const RES_TABLES = [
  [
    "location",
    "https://www.example.com",
    "date",
    "Mon, 21 Oct 2013 20:13:21 GMT",
    "cache-control",
    "private",
    ":status",
    "302",
  ],
  [
    ":status",
    "307",
    "location",
    "https://www.example.com",
    "date",
    "Mon, 21 Oct 2013 20:13:21 GMT",
    "cache-control",
    "private",
  ],
  ["set-cookie", COOKIE, "content-encoding", "gzip", "date", "Mon, 21 Oct 2013 20:13:22 GMT"],
];

const C3: Step[] = [
  {
    block: "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
    fields: REQ1,
    table: REQ_TABLES[0],
    size: 57,
  },
  { block: "8286 84be 5808 6e6f 2d63 6163 6865", fields: REQ2, table: REQ_TABLES[1], size: 110 },
  {
    block: "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
    fields: REQ3,
    table: REQ_TABLES[2],
    size: 164,
  },
];

const C4: Step[] = [
  {
    block: "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
    fields: REQ1,
    table: REQ_TABLES[0],
    size: 57,
  },
  { block: "8286 84be 5886 a8eb 1064 9cbf", fields: REQ2, table: REQ_TABLES[1], size: 110 },
  {
    block: "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
    fields: REQ3,
    table: REQ_TABLES[2],
    size: 164,
  },
];

const C5: Step[] = [
  {
    block: `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
      2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70
      6c65 2e63 6f6d`,
    fields: RES1,
    table: RES_TABLES[0],
    size: 222,
  },
  { block: "4803 3330 37c1 c0bf", fields: RES2, table: RES_TABLES[1], size: 222 },
  {
    block: `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
      54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
      5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
      3d31`,
    fields: RES3,
    table: RES_TABLES[2],
    size: 215,
  },
];

const C6: Step[] = [
  {
    block: `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
      2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`,
    fields: RES1,
    table: RES_TABLES[0],
    size: 222,
  },
  { block: "4883 640e ffc1 c0bf", fields: RES2, table: RES_TABLES[1], size: 222 },
  {
    block: `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
      77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
      9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
    fields: RES3,
    table: RES_TABLES[2],
    size: 215,
  },
];

/**
 * The dynamic table's entries, newest first, read back through indexed fields 62, 63, …
 * on a throw-away copy of the state (decoding indexed fields does not change the table).
 */
function tableOf(decoder: HpackDecoder, entries: number): string[] {
  const block = Uint8Array.from({ length: entries }, (_, i) => 0x80 | (62 + i));
  return decoder.decode(block);
}

function decodesSeries(tableSize: number, steps: Step[]): void {
  const decoder = new HpackDecoder(tableSize);
  for (const [i, step] of steps.entries()) {
    const block = hex(step.block);
    assert.deepEqual(decoder.decode(block), step.fields, `fields of block ${i + 1}`);
    assert.equal(decoder.tableSize, step.size, `table size after block ${i + 1}`);
    assert.deepEqual(tableOf(decoder, step.table.length / 2), step.table, `table ${i + 1}`);
    assert.throws(() => tableOf(decoder, step.table.length / 2 + 1), /beyond/);
  }
}

Deno.test("C.2.1 literal with indexing adds custom-key: custom-header to the table", () => {
  const decoder = new HpackDecoder();
  const block = hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572");
  assert.deepEqual(decoder.decode(block), ["custom-key", "custom-header"]);
  assert.equal(decoder.tableSize, 55);
  assert.deepEqual(tableOf(decoder, 1), ["custom-key", "custom-header"]);
});

Deno.test("C.2.2 literal without indexing leaves the table empty", () => {
  const decoder = new HpackDecoder();
  assert.deepEqual(decoder.decode(hex("040c 2f73 616d 706c 652f 7061 7468")), [
    ":path",
    "/sample/path",
  ]);
  assert.equal(decoder.tableSize, 0);
  assert.throws(() => tableOf(decoder, 1), /beyond/);
});

Deno.test("C.2.3 never-indexed literal leaves the table empty", () => {
  const decoder = new HpackDecoder();
  const block = hex("1008 7061 7373 776f 7264 0673 6563 7265 74");
  assert.deepEqual(decoder.decode(block), ["password", "secret"]);
  assert.equal(decoder.tableSize, 0);
});

Deno.test("C.2.4 indexed field from the static table", () => {
  const decoder = new HpackDecoder();
  assert.deepEqual(decoder.decode(hex("82")), [":method", "GET"]);
  assert.equal(decoder.tableSize, 0);
});

Deno.test("C.3 requests without Huffman coding decode with the RFC's tables", () => {
  decodesSeries(4096, C3);
});

Deno.test("C.4 requests with Huffman coding decode with the RFC's tables", () => {
  decodesSeries(4096, C4);
});

Deno.test("C.5 responses without Huffman coding evict from a 256-octet table", () => {
  decodesSeries(256, C5);
});

Deno.test("C.6 responses with Huffman coding evict from a 256-octet table", () => {
  decodesSeries(256, C6);
});

Deno.test("C.4 requests: the encoder writes the RFC's blocks octet for octet", () => {
  const encoder = new HpackEncoder(4096);
  for (const step of C4) {
    assert.equal(toHex(encoder.encode(step.fields)), toHex(hex(step.block)));
    assert.equal(encoder.tableSize, step.size);
  }
});

Deno.test("C.3 to C.6 header lists round-trip through our encoder and decoder", () => {
  for (
    const [tableSize, lists] of [[4096, [REQ1, REQ2, REQ3]], [256, [RES1, RES2, RES3]]] as const
  ) {
    const encoder = new HpackEncoder(tableSize);
    const decoder = new HpackDecoder(tableSize);
    for (const fields of lists) {
      assert.deepEqual(decoder.decode(encoder.encode(fields)), fields);
      assert.equal(decoder.tableSize, encoder.tableSize);
    }
    // Again, now mostly from the dynamic table.
    for (const fields of lists) {
      const block = encoder.encode(fields);
      assert.deepEqual(decoder.decode(block), fields);
    }
  }
});

Deno.test("C.6 first response: the encoder keeps a date over 1/4 of the table out of it", () => {
  // The RFC indexes every literal. skiff's encoder sends the 65-octet `date` entry, more than
  // a quarter of the 256-octet table, as a literal without indexing (0x0f 0x12: static name
  // 33), so that it does not push out the smaller entries; the rest is as in C.6.1.
  const encoder = new HpackEncoder(256);
  const expected = `4882 6402 5885 aec3 771a 4b 0f12 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0
    82a6 2d1b ff 6e91 9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3`;
  assert.equal(toHex(encoder.encode(RES1)), toHex(hex(expected)));
  assert.equal(encoder.tableSize, 42 + 52 + 63);
});
