import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type Framing,
  requestFraming,
  responseFraming,
} from "../../../src/dataplane/http/h1_framing.ts";
import { findHeadEnd, parseRequestHead } from "../../../src/dataplane/http/h1_head.ts";
import { HttpParseError } from "../../../src/dataplane/http/parse_error.ts";

/** Parses `fields` (raw header lines) under a request line, then decides framing. */
function frame(fields: string, version = "HTTP/1.1"): Framing {
  const buf = Uint8Array.from(
    `POST /upload ${version}\r\nHost: a\r\n${fields}\r\n`,
    (c) => c.charCodeAt(0),
  );
  const head = parseRequestHead(buf, 0, findHeadEnd(buf, 0, buf.length, 8192), {
    maxHeadBytes: 8192,
    maxHeaders: 100,
  });
  return requestFraming(head.minor, head.headers);
}

function rejection(fn: () => unknown): [string, number] {
  try {
    fn();
  } catch (err) {
    if (err instanceof HttpParseError) return [err.reason, err.status];
    throw err;
  }
  assert.fail("expected an HttpParseError");
}

Deno.test("requestFraming: no body, Content-Length or chunked", () => {
  const table: [string, Framing["kind"], number][] = [
    ["", "none", -1],
    ["Content-Length: 0\r\n", "none", -1],
    ["Content-Length: 10\r\n", "length", 10],
    ["Content-Length: 007\r\n", "length", 7],
    ["Content-Length: 999999999999999\r\n", "length", 999999999999999],
    ["Content-Length: 5\r\nContent-Length: 5\r\n", "length", 5],
    ["Content-Length: 5\r\nX: y\r\ncontent-length: 05\r\n", "length", 5],
    ["Content-Length: 5 \t\r\n", "length", 5],
    ["Transfer-Encoding: chunked\r\n", "chunked", -1],
    ["Transfer-Encoding: Chunked\r\n", "chunked", -1],
    ["transfer-encoding: CHUNKED\r\n", "chunked", -1],
    ["Transfer-Encoding: chunked \t\r\n", "chunked", -1],
  ];
  for (const [fields, kind, length] of table) {
    const f = frame(fields);
    assert.deepEqual([f.kind, f.length], [kind, length], JSON.stringify(fields));
  }
});

Deno.test("requestFraming rejects ambiguous or invalid framing (smuggling)", () => {
  const table: [string, string, number][] = [
    // CL.TE and TE.CL in either order, whatever the TE value.
    ["Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "cl_te", 400],
    ["Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "cl_te", 400],
    ["Transfer-Encoding: identity\r\nContent-Length: 0\r\n", "cl_te", 400],
    // Content-Length: two different values, or not 1*DIGIT.
    ["Content-Length: 5\r\nContent-Length: 6\r\n", "duplicate_content_length", 400],
    ["Content-Length: 0\r\nContent-Length: 1\r\n", "duplicate_content_length", 400],
    ["Content-Length: 5, 5\r\n", "bad_content_length", 400],
    ["Content-Length: 5,6\r\n", "bad_content_length", 400],
    ["Content-Length: +5\r\n", "bad_content_length", 400],
    ["Content-Length: -5\r\n", "bad_content_length", 400],
    ["Content-Length: 5 5\r\n", "bad_content_length", 400],
    ["Content-Length: 0x10\r\n", "bad_content_length", 400],
    ["Content-Length: 1e3\r\n", "bad_content_length", 400],
    ["Content-Length: 5.0\r\n", "bad_content_length", 400],
    ["Content-Length: 5a\r\n", "bad_content_length", 400],
    ["Content-Length: \r\n", "bad_content_length", 400],
    ["Content-Length: 1000000000000000\r\n", "bad_content_length", 400],
    ["Content-Length: 99999999999999999999999\r\n", "bad_content_length", 400],
    ["Content-Length: 5\xa0\r\n", "bad_content_length", 400],
    ["Content-Length: \xa05\r\n", "bad_content_length", 400],
    ["Content-Length: 5\r\nContent-Length: x\r\n", "bad_content_length", 400],
    // Transfer-Encoding whose last coding is not chunked: the length is unknowable.
    ["Transfer-Encoding: chunked, identity\r\n", "bad_transfer_encoding", 400],
    ["Transfer-Encoding: chunked, gzip\r\n", "bad_transfer_encoding", 400],
    ["Transfer-Encoding: identity\r\n", "bad_transfer_encoding", 400],
    ["Transfer-Encoding: gzip\r\n", "bad_transfer_encoding", 400],
    ["Transfer-Encoding: xchunked\r\n", "bad_transfer_encoding", 400],
    ["Transfer-Encoding: chunkedx\r\n", "bad_transfer_encoding", 400],
    ["Transfer-Encoding: chunked\xa0\r\n", "bad_transfer_encoding", 400],
    ["Transfer-Encoding: chunked;q=1\r\n", "bad_transfer_encoding", 400],
    ['Transfer-Encoding: "chunked"\r\n', "bad_transfer_encoding", 400],
    ["Transfer-Encoding: chunked,\r\n", "bad_transfer_encoding", 400],
    ["Transfer-Encoding: \r\n", "bad_transfer_encoding", 400],
    ["Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n", "bad_transfer_encoding", 400],
    // Chunked last, after something else: a coding skiff does not implement.
    ["Transfer-Encoding: gzip, chunked\r\n", "unsupported_transfer_coding", 501],
    ["Transfer-Encoding: chunked, chunked\r\n", "unsupported_transfer_coding", 501],
    ["Transfer-Encoding: identity,chunked\r\n", "unsupported_transfer_coding", 501],
    ["Transfer-Encoding: , chunked\r\n", "unsupported_transfer_coding", 501],
    [
      "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
      "unsupported_transfer_coding",
      501,
    ],
    [
      "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
      "unsupported_transfer_coding",
      501,
    ],
  ];
  for (const [fields, reason, status] of table) {
    assert.deepEqual(rejection(() => frame(fields)), [reason, status], JSON.stringify(fields));
  }
});

Deno.test("requestFraming: Transfer-Encoding in HTTP/1.0 is a 400", () => {
  assert.deepEqual(
    rejection(() => frame("Transfer-Encoding: chunked\r\n", "HTTP/1.0")),
    ["te_http10", 400],
  );
  assert.equal(frame("Content-Length: 3\r\n", "HTTP/1.0").kind, "length");
});

Deno.test("requestFraming: persistence, upgrade and expect", () => {
  const table: [string, string, boolean][] = [
    ["", "HTTP/1.1", false],
    ["Connection: close\r\n", "HTTP/1.1", true],
    ["Connection: Keep-Alive, CLOSE\r\n", "HTTP/1.1", true],
    ["", "HTTP/1.0", true],
    ["Connection: keep-alive\r\n", "HTTP/1.0", false],
  ];
  for (const [fields, version, close] of table) {
    assert.equal(frame(fields, version).close, close, `${version} ${JSON.stringify(fields)}`);
  }
  const up = frame("Connection: Upgrade, X-Custom\r\nUpgrade: websocket\r\n");
  assert.deepEqual([up.upgrade, up.connection], ["websocket", ["upgrade", "x-custom"]]);
  assert.equal(frame("Upgrade: websocket\r\n").upgrade, null);
  assert.equal(frame("Expect: 100-Continue\r\n").expectContinue, true);
  assert.equal(frame("Expect: 200-ok\r\n").expectContinue, false);
});

Deno.test("responseFraming: bodies that cannot exist, length, chunked, until close", () => {
  const table: [number, boolean, string[], Framing["kind"], number, boolean][] = [
    // status, HEAD request, headers → kind, length, close
    [200, true, ["content-length", "100"], "none", -1, false],
    [200, true, ["transfer-encoding", "chunked"], "none", -1, false],
    [204, false, ["content-length", "100"], "none", -1, false],
    [304, false, ["content-length", "100"], "none", -1, false],
    [304, false, ["transfer-encoding", "chunked"], "none", -1, false],
    [100, false, [], "none", -1, false],
    [101, false, ["upgrade", "websocket"], "none", -1, false],
    [103, false, ["link", "</a.css>"], "none", -1, false],
    [200, false, [], "close", -1, true],
    [404, false, ["content-type", "text/plain"], "close", -1, true],
    [200, false, ["content-length", "0"], "none", 0, false],
    [200, false, ["content-length", "12"], "length", 12, false],
    [200, false, ["content-length", "12", "content-length", "12"], "length", 12, false],
    [200, false, ["transfer-encoding", "chunked"], "chunked", -1, false],
    [200, false, ["transfer-encoding", "Chunked"], "chunked", -1, false],
    // Chunked is not the final coding: delimited by the close (RFC 9112 §6.3).
    [200, false, ["transfer-encoding", "identity"], "close", -1, true],
    [200, false, ["transfer-encoding", "chunked, identity"], "close", -1, true],
    [200, false, ["connection", "close", "content-length", "3"], "length", 3, true],
  ];
  for (const [status, head, headers, kind, length, close] of table) {
    const f = responseFraming(1, status, headers, head);
    assert.deepEqual(
      [f.kind, f.length, f.close],
      [kind, length, close],
      `${status} ${head ? "HEAD " : ""}${JSON.stringify(headers)}`,
    );
  }
  assert.equal(responseFraming(1, 101, ["upgrade", "websocket"], false).upgrade, "websocket");
  assert.equal(responseFraming(0, 200, ["content-length", "1"], false).close, true);
  assert.equal(
    responseFraming(0, 200, ["connection", "keep-alive", "content-length", "1"], false).close,
    false,
  );
});

Deno.test("responseFraming rejects ambiguous framing from upstream with a 502", () => {
  const table: [number, string[], string][] = [
    [1, ["content-length", "5", "transfer-encoding", "chunked"], "cl_te"],
    [1, ["transfer-encoding", "chunked", "content-length", "5"], "cl_te"],
    [1, ["content-length", "5", "content-length", "6"], "duplicate_content_length"],
    [1, ["content-length", "-1"], "bad_content_length"],
    [1, ["content-length", "5\xa0"], "bad_content_length"],
    [1, ["transfer-encoding", "gzip, chunked"], "unsupported_transfer_coding"],
    [1, ["transfer-encoding", "chunked, chunked"], "unsupported_transfer_coding"],
    [
      1,
      ["transfer-encoding", "gzip", "transfer-encoding", "chunked"],
      "unsupported_transfer_coding",
    ],
    [0, ["transfer-encoding", "chunked"], "te_http10"],
  ];
  for (const [minor, headers, reason] of table) {
    assert.deepEqual(
      rejection(() => responseFraming(minor, 200, headers, false)),
      [reason, 502],
      JSON.stringify(headers),
    );
  }
});

Deno.test("requestFraming never picks a body length two parsers could disagree on", () => {
  // Random mixes of framing fields: either rejected, or the framing is the only reading.
  const cl = fc.constantFrom("0", "5", "05", "6", "+5", "5,5", " 5", "0x5", "", "1e1", "5\xa0");
  const te = fc.constantFrom("chunked", "Chunked", "identity", "gzip, chunked", "chunked, gzip");
  const field = fc.oneof(
    cl.map((v) => ["content-length", v]),
    te.map((v) => ["transfer-encoding", v]),
    fc.constant(["x-other", "1"]),
  );
  fc.assert(
    fc.property(fc.array(field, { maxLength: 4 }), fc.constantFrom(0, 1), (fields, minor) => {
      const headers = fields.flat();
      const lengths = fields.filter(([n]) => n === "content-length").map(([, v]) => v);
      const codings = fields.filter(([n]) => n === "transfer-encoding").map(([, v]) => v);
      let f: Framing;
      try {
        f = requestFraming(minor, headers);
      } catch (err) {
        assert.ok(err instanceof HttpParseError);
        assert.ok([400, 501].includes(err.status));
        return;
      }
      if (codings.length > 0) {
        assert.deepEqual(
          [f.kind, minor, lengths, codings.map((c) => c.toLowerCase())],
          ["chunked", 1, [], ["chunked"]],
        );
      } else if (lengths.length > 0) {
        assert.ok(lengths.every((v) => /^[0-9]+$/.test(v) && Number(v) === Number(lengths[0])));
        assert.equal(f.length === -1 ? 0 : f.length, Number(lengths[0]));
      } else assert.equal(f.kind, "none");
    }),
    { numRuns: 500 },
  );
});
