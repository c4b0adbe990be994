// Property tests: one encoder and one decoder share their dynamic tables across many blocks,
// with table size changes in between, as on an HTTP/2 connection.
import assert from "node:assert/strict";
import fc from "fast-check";
import { HpackDecoder } from "../../../src/dataplane/http2/hpack_decoder.ts";
import { HpackEncoder } from "../../../src/dataplane/http2/hpack_encoder.ts";
import { HpackError } from "../../../src/dataplane/http2/hpack_error.ts";

/**
 * A Latin-1 string of any octets 0x00–0xff, of any length up to `maxLength` (fast-check's
 * default size would stop at 10).
 */
const latin1 = (maxLength: number) =>
  fc.array(fc.integer({ min: 0, max: 255 }), { maxLength, size: "max" }).map((octets) => {
    let s = "";
    for (const octet of octets) s += String.fromCharCode(octet);
    return s;
  });

// Few names so that they repeat, static ones and credentials among them.
const name = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      ":method",
      ":path",
      ":status",
      ":authority",
      "content-type",
      "cookie",
      "authorization",
      "set-cookie",
      "grpc-timeout",
      "x-request-id",
      "x-b",
    ),
  },
  { weight: 2, arbitrary: fc.stringMatching(/^[a-z0-9-]{1,12}$/) },
  { weight: 1, arbitrary: latin1(20) },
);

const value = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("", "GET", "200", "/", "application/grpc", "1") },
  { weight: 4, arbitrary: latin1(40) },
  { weight: 1, arbitrary: latin1(3000) },
);

/**
 * Runs of a property: a failure is reported within `interruptAfterTimeLimit` even when
 * shrinking large header lists would take much longer (a passing run takes well under 1 s).
 */
function runs(numRuns: number): fc.Parameters<unknown> {
  return { numRuns, interruptAfterTimeLimit: 15_000, markInterruptAsFailure: true };
}

const headerList = fc.array(fc.tuple(name, value), { maxLength: 16, size: "max" }).map((pairs) =>
  pairs.flat()
);

const step = fc.record({
  // SETTINGS_HEADER_TABLE_SIZE values the decoder's side sends before this block.
  sizes: fc.array(fc.oneof(fc.integer({ min: 0, max: 600 }), fc.constantFrom(0, 4096, 8192)), {
    maxLength: 3,
  }),
  headers: headerList,
});

Deno.test("random header lists round-trip across successive blocks and size changes", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(4096, 256, 0),
      fc.array(step, { maxLength: 40, size: "max" }),
      (initial, steps) => {
        const encoder = new HpackEncoder(initial);
        const decoder = new HpackDecoder(initial, Infinity);
        let capacity: number = initial;
        for (const { sizes, headers } of steps) {
          for (const size of sizes) {
            decoder.setMaxTableSize(size);
            encoder.setMaxTableSize(size);
            capacity = Math.min(size, initial);
          }
          assert.deepEqual(decoder.decode(encoder.encode(headers)), headers);
          assert.equal(decoder.tableSize, encoder.tableSize);
          // The encoder uses all the table it may, up to its own limit.
          assert.equal(decoder.tableCapacity, capacity);
        }
      },
    ),
    runs(300),
  );
});

Deno.test("header lists over maxHeaderListSize are refused without losing the table", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2000 }),
      fc.array(headerList, { maxLength: 20, size: "max" }),
      (limit, lists) => {
        const encoder = new HpackEncoder();
        const decoder = new HpackDecoder(4096, limit);
        for (const headers of lists) {
          let size = 0;
          for (let i = 0; i < headers.length; i += 2) {
            size += headers[i].length + headers[i + 1].length + 32;
          }
          const block = encoder.encode(headers);
          if (size <= limit) {
            assert.deepEqual(decoder.decode(block), headers);
          } else {
            assert.throws(
              () => decoder.decode(block),
              (err) => err instanceof HpackError && err.tooLarge,
            );
          }
          assert.equal(decoder.tableSize, encoder.tableSize);
        }
      },
    ),
    runs(200),
  );
});

Deno.test("arbitrary or corrupted blocks either decode or throw HpackError", () => {
  const edit = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }));
  fc.assert(
    fc.property(
      headerList,
      fc.array(edit, { minLength: 1, maxLength: 4 }),
      fc.nat(),
      fc.uint8Array({ maxLength: 64 }),
      (headers, edits, cut, noise) => {
        const decoder = new HpackDecoder(4096, 8192);
        const valid = new HpackEncoder().encode(headers);
        const corrupted = valid.slice(0, valid.length - (cut % (valid.length + 1)));
        for (const [at, octet] of edits) {
          if (corrupted.length > 0) corrupted[at % corrupted.length] = octet;
        }
        for (const block of [corrupted, noise]) {
          try {
            assert.equal(decoder.decode(block).length % 2, 0);
          } catch (err) {
            if (!(err instanceof HpackError)) throw err;
            return;
          }
        }
      },
    ),
    runs(2000),
  );
});
