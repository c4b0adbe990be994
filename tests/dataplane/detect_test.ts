import assert from "node:assert/strict";
import { detectProtocol, looksLikeHttp2 } from "../../src/dataplane/detect.ts";

const enc = new TextEncoder();
const PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"];

function detect(bytes: Uint8Array | string): string {
  const b = typeof bytes === "string" ? enc.encode(bytes) : bytes;
  return detectProtocol(b, 0, b.length);
}

Deno.test("detectProtocol: the HTTP/2 preface, whole or with a frame after it", () => {
  assert.equal(detect(PREFACE), "http2");
  assert.equal(detect(PREFACE + "\x00\x00\x00\x04\x00\x00\x00\x00\x00"), "http2");
});

Deno.test("detectProtocol: every prefix of the HTTP/2 preface asks for more", () => {
  for (let n = 1; n < PREFACE.length; n++) {
    assert.equal(detect(PREFACE.slice(0, n)), "more", JSON.stringify(PREFACE.slice(0, n)));
  }
  assert.equal(detect(""), "more");
});

Deno.test("detectProtocol: each method followed by a space is HTTP/1", () => {
  for (const m of METHODS) {
    assert.equal(detect(`${m} `), "http1", m);
    assert.equal(detect(`${m} /path HTTP/1.1\r\nHost: a\r\n\r\n`), "http1", m);
  }
  assert.equal(detect("CONNECT example.com:443 HTTP/1.1\r\n"), "http1");
  assert.equal(detect("OPTIONS * HTTP/1.1\r\n"), "http1");
});

Deno.test("detectProtocol: partial methods ask for more", () => {
  for (const m of METHODS) {
    for (let n = 1; n <= m.length; n++) assert.equal(detect(m.slice(0, n)), "more", m.slice(0, n));
  }
  assert.equal(detect("GE"), "more");
});

Deno.test("detectProtocol: anything else is TCP", () => {
  const table: (string | number[])[] = [
    "GET/", // no space after the method
    "GETX ",
    "get / HTTP/1.1\r\n", // methods are case-sensitive
    "POSTS ",
    "PRI * HTTP/1.1\r\n", // diverges from the preface
    "SSH-2.0-OpenSSH_9.6\r\n",
    "\r\nGET / HTTP/1.1\r\n",
    " GET ",
    "HELLO",
    "X",
    // A TLS ClientHello: handshake record, TLS 1.0 record version, length, ClientHello.
    [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03],
    [0x16],
    [0x00],
    [0xff, 0xfe, 0x00, 0x47],
    [0x47, 0x45, 0x00], // "GE\0"
  ];
  for (const bytes of table) {
    const b = typeof bytes === "string" ? enc.encode(bytes) : new Uint8Array(bytes);
    assert.equal(detect(b), "tcp", JSON.stringify(typeof bytes === "string" ? bytes : bytes));
  }
});

Deno.test("detectProtocol looks only at buf[start, end)", () => {
  const b = enc.encode("\x16\x03junkGET / HTTP/1.1");
  const at = 6; // "GET"
  assert.equal(detectProtocol(b, at, at + 2), "more");
  assert.equal(detectProtocol(b, at, at + 4), "http1");
  assert.equal(detectProtocol(b, 0, b.length), "tcp");
  assert.equal(detectProtocol(b, at, at), "more");
  const h2 = enc.encode("xx" + PREFACE);
  assert.equal(detectProtocol(h2, 2, h2.length), "http2");
  assert.equal(detectProtocol(h2, 2, 10), "more");
});

Deno.test("looksLikeHttp2 needs four bytes of the preface", () => {
  const table: [string, boolean][] = [
    [PREFACE, true],
    ["PRI ", true],
    ["PRI * HTTP", true],
    ["PRI", false], // too short to tell
    ["PRIX", false],
    ["GET / HTTP/1.1", false],
    ["POST", false],
  ];
  for (const [s, want] of table) {
    const b = enc.encode(s);
    assert.equal(looksLikeHttp2(b, 0, b.length), want, JSON.stringify(s));
  }
});
