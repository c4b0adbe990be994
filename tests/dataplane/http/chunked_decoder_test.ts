import assert from "node:assert/strict";
import fc from "fast-check";
import { ChunkedDecoder, MAX_CHUNK_LINE } from "../../../src/dataplane/http/chunked_decoder.ts";
import { H1BodyReader } from "../../../src/dataplane/http/h1_body_reader.ts";
import type { Framing } from "../../../src/dataplane/http/h1_framing.ts";
import { HttpParseError } from "../../../src/dataplane/http/parse_error.ts";
import { ConnReader } from "../../../src/net/conn_reader.ts";

const LIMITS = { maxHeadBytes: 4096, maxHeaders: 20 };

function bytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function text(b: Uint8Array): string {
  return String.fromCharCode(...b);
}

interface Decoded {
  data: string;
  trailers: string[];
  /** Index of the first byte not consumed. */
  pos: number;
  done: boolean;
}

/** Feeds `input` to a fresh decoder in pieces ending at `cuts` (sorted), then at the end. */
function decode(input: Uint8Array, cuts: number[] = [], limits = LIMITS): Decoded {
  const d = new ChunkedDecoder(limits);
  const parts: Uint8Array[] = [];
  let pos = 0;
  for (const end of [...cuts, input.length]) {
    if (end <= pos) continue;
    const next = d.decode(input, pos, end, (c) => parts.push(c.slice()));
    if (next < end) {
      assert.ok(d.done, "bytes left unconsumed before the end of the message");
      pos = next;
      break;
    }
    pos = next;
  }
  return { data: parts.map(text).join(""), trailers: d.trailers, pos, done: d.done };
}

/** Every way of feeding `input` one byte at a time, and whole. */
function decodeBothWays(input: string): Decoded {
  const b = bytes(input);
  const whole = decode(b);
  const bytewise = decode(b, Array.from({ length: b.length }, (_, i) => i));
  assert.deepEqual(bytewise, whole, "byte-by-byte feeding changed the result");
  return whole;
}

function rejection(input: string, limits = LIMITS): [string, number] {
  const b = bytes(input);
  let first: [string, number] | null = null;
  for (const cuts of [[], Array.from({ length: b.length }, (_, i) => i)]) {
    try {
      decode(b, cuts, limits);
    } catch (err) {
      if (!(err instanceof HttpParseError)) throw err;
      const got: [string, number] = [err.reason, err.status];
      if (first) assert.deepEqual(got, first, "split feeding changed the error");
      first = got;
      continue;
    }
    assert.fail(`expected a rejection of ${JSON.stringify(input.slice(0, 60))}`);
  }
  return first!;
}

Deno.test("ChunkedDecoder decodes chunks and stops after the message", () => {
  const body = "5\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\n\r\n";
  const r = decodeBothWays(body + "GET /next HTTP/1.1\r\n");
  assert.deepEqual(r, { data: "hello 0123456789", trailers: [], pos: body.length, done: true });
  assert.equal(decodeBothWays("000\r\n\r\n").done, true);
  assert.equal(decodeBothWays("0000000000001\r\nx\r\n0\r\n\r\n").data, "x");
  assert.equal(decodeBothWays("fF\r\n" + "y".repeat(255) + "\r\n0\r\n\r\n").data.length, 255);
});

Deno.test("ChunkedDecoder is not done until the final CRLF", () => {
  const all = "3\r\nabc\r\n0\r\nA: b\r\n\r\n";
  for (let n = 0; n < all.length; n++) {
    const r = decode(bytes(all.slice(0, n)));
    assert.deepEqual([r.done, r.pos], [false, n], `${n} bytes`);
  }
});

Deno.test("ChunkedDecoder rejects bad chunk-size lines", () => {
  const table: [string, string, string][] = [
    ["non-hex", "g\r\n", "bad_chunk_size"],
    ["empty size", "\r\nabc\r\n0\r\n\r\n", "bad_chunk_size"],
    ["0x prefix", "0x10\r\n", "bad_chunk_size"],
    ["14 digits", "00000000000001\r\nx\r\n0\r\n\r\n", "bad_chunk_size"],
    ["huge", "ffffffffffffffffff\r\n", "bad_chunk_size"],
    ["negative", "-1\r\n", "bad_chunk_size"],
    ["plus sign", "+1\r\n", "bad_chunk_size"],
    ["leading space", " 1\r\nx\r\n0\r\n\r\n", "bad_chunk_size"],
    ["space between digits", "1 0\r\n", "bad_chunk_size"],
    ["underscore", "1_0\r\n", "bad_chunk_size"],
    ["NUL after size", "1\x00\r\nx\r\n", "bad_chunk_size"],
    ["bare LF after size", "1\nx\r\n0\r\n\r\n", "bare_lf"],
    ["bare LF in extension", "1;a=b\nx\r\n0\r\n\r\n", "bare_lf"],
    ["bare LF ending the last chunk", "0\n\r\n", "bare_lf"],
    ["bare CR after size", "1\rx\r\n", "bare_cr"],
    ["bare CR in extension", "1;a\rb\r\nx\r\n", "bare_cr"],
  ];
  for (const [what, input, reason] of table) {
    assert.deepEqual(rejection(input), [reason, 400], what);
  }
});

Deno.test("ChunkedDecoder requires CRLF right after the chunk data", () => {
  for (
    const [what, input] of [
      ["data too long", "3\r\nabcd\r\n0\r\n\r\n"],
      ["no CRLF", "3\r\nabc0\r\n\r\n"],
      ["bare LF", "3\r\nabc\n0\r\n\r\n"],
      ["bare CR", "3\r\nabc\r0\r\n\r\n"],
      ["LF CR", "3\r\nabc\n\r0\r\n\r\n"],
    ]
  ) {
    assert.deepEqual(rejection(input), ["bad_chunk", 400], what);
  }
});

Deno.test("ChunkedDecoder accepts well-formed chunk extensions and rejects others", () => {
  const good = [
    "5;name",
    "5;name=value",
    "5 ; name = value",
    "5\t;\tname\t=\tvalue",
    "5;a=1;b=2;c",
    '5;q="a \\"quoted\\" value; with ;"',
    '5;q=""',
    '5;n="\xe9"',
    "5 ",
    "5;a=b \t",
  ];
  for (const line of good) {
    assert.equal(decodeBothWays(`${line}\r\nhello\r\n0;last\r\n\r\n`).data, "hello", line);
  }
  const bad = [
    "5;",
    "5;;a",
    "5;=v",
    "5;a=",
    "5;a b",
    "5;a=b c",
    '5;a="unterminated',
    '5;a="x"y',
    "5;a=@",
    "5;\xe9",
    "5;n=\xe9",
    "5 x",
  ];
  for (const line of bad) {
    assert.deepEqual(rejection(`${line}\r\nhello\r\n0\r\n\r\n`), ["bad_chunk_size", 400], line);
  }
});

Deno.test("ChunkedDecoder bounds the chunk-size line, however it arrives", () => {
  const at = (n: number) => "5;e=" + "x".repeat(n - 5) + "\r"; // `n` bytes before the LF
  assert.equal(at(MAX_CHUNK_LINE).length, MAX_CHUNK_LINE);
  assert.equal(decodeBothWays(`${at(MAX_CHUNK_LINE)}\nhello\r\n0\r\n\r\n`).data, "hello");
  assert.deepEqual(
    rejection(`${at(MAX_CHUNK_LINE + 1)}\nhello\r\n0\r\n\r\n`),
    ["chunk_line_too_long", 400],
  );
  // No LF at all: rejected as soon as the line is too long, without waiting for more.
  assert.deepEqual(rejection("5;" + "x".repeat(5000)), ["chunk_line_too_long", 400]);
});

Deno.test("ChunkedDecoder parses the trailer section", () => {
  const r = decodeBothWays(
    "3\r\nabc\r\n0\r\nExpires: never\r\nX-Checksum:  ab\xe9 \r\n\r\nnext",
  );
  assert.deepEqual(r.trailers, ["expires", "never", "x-checksum", "ab\xe9"]);
  assert.equal(r.data, "abc");
  assert.equal(r.pos, "3\r\nabc\r\n0\r\nExpires: never\r\nX-Checksum:  ab\xe9 \r\n\r\n".length);
});

Deno.test("ChunkedDecoder rejects malformed or oversized trailers", () => {
  const table: [string, string, number][] = [
    ["0\r\nA: b\r\n c\r\n\r\n", "obs_fold", 400],
    ["0\r\nA: b\n\r\n", "bare_lf", 400],
    ["0\r\nA: b\r\n\n", "bare_lf", 400],
    ["0\r\n\n", "bare_lf", 400],
    ["0\r\nA : b\r\n\r\n", "space_before_colon", 400],
    ["0\r\nA: b\x00\r\n\r\n", "bad_header_value", 400],
    ["0\r\nA: b\rc\r\n\r\n", "bare_cr", 400],
    ["0\r\nno colon\r\n\r\n", "bad_header", 400],
    ["0\r\n" + "A: b\r\n".repeat(21) + "\r\n", "too_many_headers", 431],
    ["0\r\nA: " + "b".repeat(4096) + "\r\n\r\n", "trailers_too_large", 431],
  ];
  for (const [input, reason, status] of table) {
    assert.deepEqual(rejection(input), [reason, status], JSON.stringify(input.slice(0, 30)));
  }
  // Exactly maxHeadBytes of trailer section is accepted.
  const section = "A: " + "b".repeat(LIMITS.maxHeadBytes - 7) + "\r\n\r\n";
  assert.equal(section.length, LIMITS.maxHeadBytes);
  assert.equal(decodeBothWays("0\r\n" + section).trailers[1].length, LIMITS.maxHeadBytes - 7);
});

/** Frames `chunks` with optional extensions and trailers, as a client would send them. */
function frameBody(chunks: Uint8Array[], exts: string[], trailers: [string, string][]): Uint8Array {
  let out = "";
  chunks.forEach((c, i) => {
    out += c.length.toString(16) + exts[i % exts.length] + "\r\n" + text(c) + "\r\n";
  });
  out += "0" + exts[0] + "\r\n" + trailers.map(([n, v]) => `${n}: ${v}\r\n`).join("") + "\r\n";
  return bytes(out);
}

Deno.test("chunked decoding does not depend on how the input is split across reads", () => {
  const chunk = fc.uint8Array({ minLength: 1, maxLength: 300 });
  const ext = fc.constantFrom("", ";a", ";a=b", ' ; q="x;y"', ";k=v;k2");
  const trailer = fc.tuple(
    fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/),
    fc.stringMatching(/^[\x21-\x7e]{0,12}$/),
  );
  fc.assert(
    fc.property(
      fc.array(chunk, { maxLength: 8 }),
      fc.array(ext, { minLength: 1, maxLength: 3 }),
      fc.array(trailer, { maxLength: 3 }),
      fc.uint8Array({ maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 12 }),
      (chunks, exts, trailers, after, rawCuts) => {
        const message = frameBody(chunks, exts, trailers);
        const input = new Uint8Array(message.length + after.length);
        input.set(message);
        input.set(after, message.length);
        const cuts = [...new Set(rawCuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
        const r = decode(input, cuts);
        assert.equal(r.done, true);
        assert.equal(r.pos, message.length);
        assert.equal(r.data, chunks.map(text).join(""));
        assert.deepEqual(r.trailers, trailers.flatMap(([n, v]) => [n, v]));
      },
    ),
    { numRuns: 300 },
  );
});

/** A reader handing out `parts` one per read, then EOF. */
function scripted(parts: string[]): { read(p: Uint8Array): Promise<number | null> } {
  const queue = parts.map(bytes);
  return {
    read(p) {
      const next = queue.shift();
      if (next === undefined) return Promise.resolve(null);
      p.set(next);
      return Promise.resolve(next.length);
    },
  };
}

/** A reader of a chunked body on `reader` that records in `ends` how the body ended. */
function chunkedBody(reader: ConnReader, ends: boolean[]): H1BodyReader {
  const framing: Framing = {
    kind: "chunked",
    length: -1,
    close: false,
    connection: [],
    upgrade: null,
    expectContinue: false,
  };
  return new H1BodyReader(reader, framing, LIMITS, (clean) => ends.push(clean));
}

Deno.test("H1BodyReader reads a chunked body across reads and leaves the next request", async () => {
  const reader = new ConnReader(
    scripted(["4\r\nab", "cd\r\n3;x=1\r\nefg\r\n0\r\nT: 1\r", "\n\r\nGET"]),
  );
  const ends: boolean[] = [];
  const body = chunkedBody(reader, ends);
  let got = "";
  for (let c = await body.read(); c !== null; c = await body.read()) got += text(c);
  assert.equal(got, "abcdefg");
  assert.deepEqual(body.trailers(), ["t", "1"]);
  assert.deepEqual(ends, [true]);
  assert.equal(text(reader.take()), "GET");
});

Deno.test("H1BodyReader fails the body (connection not reusable) on a chunked framing error", async () => {
  const reader = new ConnReader(scripted(["4\r\nabcd\r\nzz\r\n"]));
  const ends: boolean[] = [];
  const body = chunkedBody(reader, ends);
  await assert.rejects(
    async () => {
      for (let c = await body.read(); c !== null; c = await body.read()) { /* drain */ }
    },
    (err: unknown) => err instanceof HttpParseError && err.reason === "bad_chunk_size",
  );
  assert.deepEqual(ends, [false]);
  assert.equal(body.done, true);
  assert.equal(await body.read(), null);
});
