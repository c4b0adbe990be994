import assert from "node:assert/strict";
import fc from "fast-check";
import { ChunkedDecoder } from "../../../src/dataplane/http/chunked_decoder.ts";
import { requestFraming } from "../../../src/dataplane/http/h1_framing.ts";
import { findHeadEnd, parseRequestHead } from "../../../src/dataplane/http/h1_head.ts";
import {
  chunkFrame,
  encodeHead,
  fieldLines,
  lastChunk,
  requestHeadText,
} from "../../../src/dataplane/http/h1_serialize.ts";

const LIMITS = { maxHeadBytes: 64 * 1024, maxHeaders: 100 };

function text(b: Uint8Array): string {
  return String.fromCharCode(...b);
}

/** Serializes a head into a fresh buffer the way the upstream connection does. */
function wire(head: string): Uint8Array {
  const out = new Uint8Array(head.length);
  assert.equal(encodeHead(head, out), head.length);
  return out;
}

const tchar = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const token = fc.string({ unit: fc.constantFrom(...tchar), minLength: 1, maxLength: 12 });
// A field value as the parser returns it: visible ASCII or obs-text (0x80–0xFF), with SP and
// HTAB allowed inside but not at either end.
const visible = fc.oneof(
  fc.integer({ min: 0x21, max: 0x7e }),
  fc.integer({ min: 0x80, max: 0xff }),
).map((c) => String.fromCharCode(c));
const value = fc.oneof(
  fc.constant(""),
  fc.tuple(
    visible,
    fc.string({ unit: fc.oneof(visible, fc.constantFrom(" ", "\t")), maxLength: 30 }),
    visible,
  ).map(([a, mid, z]) => a + mid + z),
  visible,
);
const target = fc.string({
  unit: fc.constantFrom(..."/abcXYZ019-._~!$&'()*+,;=:@%?"),
  minLength: 1,
  maxLength: 40,
}).map((t) => "/" + t);

Deno.test("requestHeadText + encodeHead parse back to the same request, byte for byte", () => {
  fc.assert(
    fc.property(
      token,
      target,
      fc.stringMatching(/^[a-z0-9.-]{1,20}(:[0-9]{1,5})?$/),
      fc.array(
        fc.tuple(token, value).filter(([n]) =>
          !["host", "content-length", "transfer-encoding"].includes(n.toLowerCase())
        ),
        { maxLength: 10 },
      ),
      fc.constantFrom(-2, -1, 0, 17),
      (method, path, authority, fields, length) => {
        const head = requestHeadText(method, path, authority, fields.flat(), length);
        const buf = wire(head);
        const end = findHeadEnd(buf, 0, buf.length, LIMITS.maxHeadBytes);
        assert.equal(end, buf.length);
        const parsed = parseRequestHead(buf, 0, end, LIMITS);
        const framing = length === -2
          ? []
          : length === -1
          ? ["transfer-encoding", "chunked"]
          : ["content-length", String(length)];
        assert.equal(parsed.method, method);
        assert.equal(parsed.target, path);
        assert.equal(parsed.minor, 1);
        assert.deepEqual(parsed.headers, [
          "host",
          authority,
          ...fields.flatMap(([n, v]) => [n.toLowerCase(), v]),
          ...framing,
        ]);
        const f = requestFraming(parsed.minor, parsed.headers);
        assert.equal(f.kind, length === -1 ? "chunked" : length > 0 ? "length" : "none");
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("obs-text values keep their bytes through encodeHead and the parser", () => {
  const all = Array.from({ length: 128 }, (_, i) => String.fromCharCode(0x80 + i)).join("");
  const head = requestHeadText("GET", "/", "a", ["x-latin1", all, "x-ascii", "plain"], -2);
  const buf = wire(head);
  const at = head.indexOf(all);
  assert.deepEqual(
    [...buf.subarray(at, at + 128)],
    Array.from({ length: 128 }, (_, i) => 0x80 + i),
  );
  const parsed = parseRequestHead(buf, 0, buf.length, LIMITS);
  assert.equal(parsed.latin1, true);
  assert.deepEqual(parsed.headers, ["host", "a", "x-latin1", all, "x-ascii", "plain"]);
});

Deno.test("encodeHead writes at an offset and reports a buffer that is too small", () => {
  const out = new Uint8Array(8).fill(0x2e);
  assert.equal(encodeHead("abc", out, 2), 3);
  assert.equal(text(out), "..abc...");
  assert.equal(encodeHead("a\xe9c", out, 5), 3);
  assert.equal(text(out), "..abca\xe9c");
  assert.equal(encodeHead("abcdefgh", out, 1), -1);
  assert.equal(encodeHead("\xe9bcdefgh", out, 1), -1);
  // Code points above U+00FF have no Latin-1 byte: they become "?", never a split byte.
  const wide = new Uint8Array(4);
  assert.equal(encodeHead("a\u20acb\xff", wide), 4);
  assert.deepEqual([...wide], [0x61, 0x3f, 0x62, 0xff]);
});

Deno.test("fieldLines and lastChunk frame fields as CRLF lines", () => {
  assert.equal(fieldLines(["a", "1", "b", ""]), "a: 1\r\nb: \r\n");
  assert.equal(text(lastChunk(null)), "0\r\n\r\n");
  assert.equal(
    text(lastChunk(["grpc-status", "0", "x", "\xe9"])),
    "0\r\ngrpc-status: 0\r\nx: \xe9\r\n\r\n",
  );
});

Deno.test("chunkFrame frames data; empty data is no chunk at all (not the last chunk)", () => {
  assert.equal(text(chunkFrame(new TextEncoder().encode("hello"))), "5\r\nhello\r\n");
  assert.equal(text(chunkFrame(new Uint8Array(300))).slice(0, 5), "12c\r\n");
  assert.equal(chunkFrame(new Uint8Array(0)).length, 0);
});

Deno.test("chunkFrame and lastChunk decode back to the same data and trailers", () => {
  const trailer = fc.tuple(token, value);
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 10 }),
      fc.option(fc.array(trailer, { minLength: 1, maxLength: 4 }), { nil: null }),
      (chunks, trailers) => {
        const frames = [...chunks.map(chunkFrame), lastChunk(trailers?.flat() ?? null)];
        const wireBytes = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
        let at = 0;
        for (const f of frames) {
          wireBytes.set(f, at);
          at += f.length;
        }
        const d = new ChunkedDecoder(LIMITS);
        let data = "";
        assert.equal(d.decode(wireBytes, 0, wireBytes.length, (c) => data += text(c)), at);
        assert.equal(d.done, true);
        assert.equal(data, chunks.map(text).join(""));
        assert.deepEqual(d.trailers, trailers?.flatMap(([n, v]) => [n.toLowerCase(), v]) ?? []);
      },
    ),
    { numRuns: 300 },
  );
});
