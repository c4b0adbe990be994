import assert from "node:assert/strict";
import fc from "fast-check";
import { findHeadEnd, parseResponseHead } from "../../../src/dataplane/http/h1_head.ts";
import { responseFraming } from "../../../src/dataplane/http/h1_framing.ts";
import { endToEndHeaders } from "../../../src/dataplane/http/hop_by_hop.ts";
import { HttpParseError } from "../../../src/dataplane/http/parse_error.ts";
import { keptToHeaders, scanResponseHead } from "../../../src/dataplane/http/h1_response_scan.ts";

const enc = new TextEncoder();
const LIMITS = { maxHeadBytes: 65536, maxHeaders: 100 };

function bytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** The fast path must agree with the strict parser whenever it answers at all. */
function agree(text: string): "fast" | "slow" {
  const buf = bytes(text);
  const end = findHeadEnd(buf, 0, buf.length, LIMITS.maxHeadBytes);
  assert.ok(end > 0);
  const scan = scanResponseHead(buf, 0, buf.length, LIMITS);
  if (scan === null) return "slow";
  assert.equal(scan.size, end);
  const head = parseResponseHead(buf, 0, end, LIMITS); // must not throw
  assert.equal(scan.status, head.status);
  assert.equal(scan.minor, head.minor);
  const framing = responseFraming(head.minor, head.status, head.headers, false);
  assert.deepEqual(
    keptToHeaders(scan.kept, 100),
    endToEndHeaders(head.headers, framing.connection),
  );
  assert.deepEqual(
    responseFraming(scan.minor, scan.status, scan.framing, false),
    framing,
  );
  return "fast";
}

Deno.test("scanResponseHead takes a typical nginx response and keeps end-to-end lines verbatim", () => {
  const text = "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Fri, 27 Nov 2026 09:00:00 GMT\r\n" +
    "Content-Type: text/plain\r\nContent-Length: 20\r\nConnection: keep-alive\r\n" +
    "X-Thing:  spaced value \r\n\r\n";
  assert.equal(agree(text), "fast");
  const buf = enc.encode(text);
  const scan = scanResponseHead(buf, 0, buf.length, LIMITS)!;
  assert.equal(
    new TextDecoder().decode(scan.kept),
    "Server: nginx\r\nDate: Fri, 27 Nov 2026 09:00:00 GMT\r\nContent-Type: text/plain\r\n" +
      "X-Thing:  spaced value \r\n",
  );
  assert.deepEqual(scan.framing, ["content-length", "20", "connection", "keep-alive"]);
});

Deno.test("scanResponseHead finds the end of the head, waits for the rest, uses the scratch", () => {
  const head = "HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 2\r\n\r\n";
  const buf = bytes(head + "okHTTP/1.1 ");
  const scratch = new Uint8Array(64);
  const scan = scanResponseHead(buf, 0, buf.length, LIMITS, scratch)!;
  assert.equal(scan.size, head.length);
  assert.equal(scan.kept.buffer, scratch.buffer); // copied into the scratch, not a new array
  assert.equal(new TextDecoder().decode(scan.kept), "Server: x\r\n");
  for (let cut = 1; cut < head.length; cut++) {
    assert.equal(scanResponseHead(buf, 0, cut, LIMITS), null, `cut at ${cut}`);
  }
  // Too small a scratch: a new array.
  const small = scanResponseHead(buf, 0, buf.length, LIMITS, new Uint8Array(2))!;
  assert.equal(new TextDecoder().decode(small.kept), "Server: x\r\n");
  // Over the limit: left to findHeadEnd, which rejects it.
  const limits = { maxHeadBytes: head.length - 1, maxHeaders: 100 };
  assert.equal(scanResponseHead(buf, 0, buf.length, limits), null);
});

Deno.test("scanResponseHead leaves unusual heads to the strict parser", () => {
  const slow = [
    "HTTP/1.1 200 OK\r\nConnection: x-secret\r\nX-Secret: 1\r\n\r\n", // names a field to strip
    "HTTP/1.1 200 OK\r\nX-Latin: caf\xe9\r\n\r\n", // obs-text
    "HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n", // obs-fold (the strict parser rejects it)
    "HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n", // whitespace before the colon
    "HTTP/1.1 200 OK\r\nX-A: a\x01b\r\n\r\n", // control character
    "HTTP/1.1 099 Odd\r\n\r\n",
    "HTTP/2.0 200 OK\r\n\r\n",
  ];
  for (const text of slow) {
    const buf = bytes(text);
    assert.equal(scanResponseHead(buf, 0, buf.length, LIMITS), null, JSON.stringify(text));
  }
});

Deno.test("scanResponseHead agrees with the strict parser on generated heads", () => {
  const name = fc.constantFrom(
    "Content-Length",
    "content-length",
    "Transfer-Encoding",
    "Connection",
    "Keep-Alive",
    "TE",
    "Trailer",
    "Upgrade",
    "Host",
    "Date",
    "Server",
    "X-Request-Id",
    "Set-Cookie",
    "Proxy-Connection",
    "HTTP2-Settings",
    "X:A",
    "Bad Name",
  );
  const value = fc.constantFrom(
    "5",
    "12",
    "chunked",
    "close",
    "keep-alive",
    "Upgrade",
    "close, keep-alive",
    "  padded  ",
    "a\tb",
    "",
    "x-other",
    "gzip, chunked",
  );
  const status = fc.constantFrom("200 OK", "204 No Content", "304 Not Modified", "404", "503 x");
  fc.assert(
    fc.property(
      fc.constantFrom("1.0", "1.1"),
      status,
      fc.array(fc.tuple(name, value), { maxLength: 8 }),
      (version, st, fields) => {
        const text = `HTTP/${version} ${st}\r\n` +
          fields.map(([n, v]) => `${n}: ${v}\r\n`).join("") +
          "\r\n";
        try {
          agree(text);
        } catch (err) {
          if (err instanceof HttpParseError) {
            // Whatever the strict parser rejects, the fast path must not have accepted.
            const buf = bytes(text);
            const scan = scanResponseHead(buf, 0, buf.length, LIMITS);
            if (scan !== null) {
              // The scan may accept a head whose *framing* is invalid; framing is decided
              // by the same responseFraming afterwards, which throws the same error.
              assert.throws(() => responseFraming(scan.minor, scan.status, scan.framing, false));
            }
            return;
          }
          throw err;
        }
      },
    ),
    { numRuns: 2000, seed: 7 },
  );
});
