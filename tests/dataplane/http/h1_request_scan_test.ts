import assert from "node:assert/strict";
import fc from "fast-check";
import { findHeadEnd, parseRequestHead } from "../../../src/dataplane/http/h1_head.ts";
import { scanRequestHead } from "../../../src/dataplane/http/h1_request_scan.ts";
import { HttpParseError } from "../../../src/dataplane/http/parse_error.ts";

const LIMITS = { maxHeadBytes: 65536, maxHeaders: 8 };

function bytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** The scanner, given the head at offset 5 of a buffer with stale bytes around it. */
function scan(text: string, limits = LIMITS) {
  const head = bytes(text);
  const buf = new Uint8Array(head.length + 10).fill(0x41);
  buf.set(head, 5);
  const found = scanRequestHead(buf, 5, 5 + head.length, limits);
  if (found !== null) {
    // It delimits the head exactly where `findHeadEnd` does.
    assert.equal(5 + found.size, findHeadEnd(buf, 5, 5 + head.length, limits.maxHeadBytes));
  }
  return found;
}

/** The strict parser's result, or its rejection reason. */
function strict(text: string) {
  const buf = bytes(text);
  try {
    return parseRequestHead(buf, 0, findHeadEnd(buf, 0, buf.length, 65536), LIMITS);
  } catch (err) {
    if (err instanceof HttpParseError) return err.reason;
    throw err;
  }
}

Deno.test("scanRequestHead reads a typical request like the strict parser", () => {
  const text = "GET /a?b=1 HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: wrk\r\n" +
    "X-Custom-Thing:  spaced  value \t\r\nACCEPT:*/*\r\nEmpty:\r\n\r\n";
  const head = scan(text);
  assert.deepEqual(head, strict(text));
  assert.deepEqual(head!.headers, [
    "host",
    "example.com:8080",
    "user-agent",
    "wrk",
    "x-custom-thing",
    "spaced  value",
    "accept",
    "*/*",
    "empty",
    "",
  ]);
  assert.equal(head!.method, "GET");
  assert.equal(head!.target, "/a?b=1");
  assert.equal(head!.minor, 1);
});

Deno.test("scanRequestHead finds the end of the head itself, and waits for the rest", () => {
  const head = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  // A pipelined request behind it is not part of it.
  assert.equal(scan(head + "GET /next HTTP/1.1\r\n")!.size, head.length);
  for (let cut = 1; cut < head.length; cut++) {
    assert.equal(scan(head.slice(0, cut)), null, `cut at ${cut}`);
  }
  // A head over the limit is left to findHeadEnd, which rejects it.
  assert.equal(scan(head, { maxHeadBytes: head.length - 1, maxHeaders: 8 }), null);
  assert.equal(scan(head, { maxHeadBytes: head.length, maxHeaders: 8 })!.size, head.length);
});

Deno.test("scanRequestHead leaves unusual heads to the strict parser", () => {
  const slow = [
    "GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n", // obs-text in the target
    "GET / HTTP/1.1\r\nX-Latin: caf\xe9\r\n\r\n", // obs-text in a value
    "GET / HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n", // obs-fold
    "GET / HTTP/1.1\r\nX-A : 1\r\n\r\n", // whitespace before the colon
    "GET / HTTP/1.1\r\nX-A: a\x01b\r\n\r\n", // control character
    "GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n", // bare CR
    "GET / HTTP/1.1\r\nX-A: a\nX-B: b\r\n\r\n", // bare LF
    "GET / HTTP/2.0\r\n\r\n",
    "GET  / HTTP/1.1\r\n\r\n",
    "G(T / HTTP/1.1\r\n\r\n",
    "GET / HTTP/1.1\r\nNo-Colon\r\n\r\n",
    "GET / HTTP/1.1\r\n" + "X: 1\r\n".repeat(LIMITS.maxHeaders + 1) + "\r\n",
  ];
  for (const text of slow) assert.equal(scan(text), null, JSON.stringify(text));
});

Deno.test("scanRequestHead agrees with the strict parser on generated heads", () => {
  const method = fc.constantFrom("GET", "POST", "HEAD", "PURGE", "get", "M-SEARCH", "G(T", "");
  const target = fc.constantFrom("/", "/a/b?c=d", "*", "http://h/x", "/caf\xe9", "/a b", "");
  const version = fc.constantFrom("HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "http/1.1", "HTTP/1.1 ");
  const name = fc.constantFrom(
    "Host",
    "host",
    "HOST",
    "User-Agent",
    "Content-Length",
    "Transfer-Encoding",
    "X-Request-Id",
    "X-Forwarded-For",
    "Sec-WebSocket-Key",
    "Unknown-Field",
    "Mixed-CASE",
    "x:y",
    "Bad Name",
    " Folded",
    "",
  );
  const value = fc.constantFrom(
    "a",
    "  padded  ",
    "a\tb",
    "",
    " ",
    "\t",
    "caf\xe9",
    "ctl\x7f",
    "cr\rx",
    "127.0.0.1:8080",
    "a".repeat(40),
  );
  let scanned = 0;
  fc.assert(
    fc.property(
      method,
      target,
      version,
      fc.array(fc.tuple(name, value), { maxLength: 10 }),
      (m, t, v, fields) => {
        const text = `${m} ${t} ${v}\r\n` + fields.map(([n, x]) => `${n}:${x}\r\n`).join("") +
          "\r\n";
        const fast = scan(text);
        if (fast !== null) {
          scanned++;
          assert.deepEqual(fast, strict(text), JSON.stringify(text));
        }
      },
    ),
    { numRuns: 3000, seed: 11 },
  );
  // The comparison means something only if the fast path took some of the heads (108 of
  // 3000 with this seed: most generated heads are for the strict path).
  assert.ok(scanned >= 50, `the fast path scanned only ${scanned} of 3000 heads`);
});
