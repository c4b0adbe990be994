// Cost of skiff's HTTP/1.1 codec on the hot path: ns per request head (find the end, parse,
// decide framing) for a `wrk`-style head and a 12-header browser head, ns per response head,
// and chunked decoding of a 1 MiB body (MB/s = 1.048576 / (ms per iteration)).
// Run: deno bench bench/h1_codec_bench.ts
import { ChunkedDecoder } from "../src/dataplane/http/chunked_decoder.ts";
import { requestFraming, responseFraming } from "../src/dataplane/http/h1_framing.ts";
import {
  findHeadEnd,
  type HeadLimits,
  parseRequestHead,
  parseResponseHead,
} from "../src/dataplane/http/h1_head.ts";
import { chunkFrame, encodeHead, requestHeadText } from "../src/dataplane/http/h1_serialize.ts";

const LIMITS: HeadLimits = { maxHeadBytes: 64 * 1024, maxHeaders: 100 };
const enc = new TextEncoder();

/** Bytes of `text` inside a larger buffer, as a connection's read buffer holds them. */
function inBuffer(text: string): [Uint8Array, number, number] {
  const buf = new Uint8Array(16 * 1024);
  const start = 37; // not at offset 0, like a pipelined request
  const n = enc.encodeInto(text, buf.subarray(start)).written;
  return [buf, start, start + n];
}

const WRK = inBuffer("GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n");
const BROWSER = inBuffer(
  "GET /static/js/app.3f9a1c.js?v=20240611 HTTP/1.1\r\n" +
    "Host: shop.example.com\r\n" +
    "Connection: keep-alive\r\n" +
    'sec-ch-ua: "Chromium";v="125", "Not.A/Brand";v="24"\r\n' +
    "sec-ch-ua-mobile: ?0\r\n" +
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) " +
    "Chrome/125.0.0.0 Safari/537.36\r\n" +
    'sec-ch-ua-platform: "Linux"\r\n' +
    "Accept: */*\r\n" +
    "Sec-Fetch-Site: same-origin\r\n" +
    "Sec-Fetch-Mode: no-cors\r\n" +
    "Referer: https://shop.example.com/cart\r\n" +
    "Accept-Encoding: gzip, deflate, br, zstd\r\n" +
    "Cookie: session=7f3e2a9c4b1d8e6f; theme=dark; cart=3\r\n\r\n",
);
const RESPONSE = inBuffer(
  "HTTP/1.1 200 OK\r\n" +
    "Content-Type: application/json; charset=utf-8\r\n" +
    "Content-Length: 1432\r\n" +
    "Date: Tue, 11 Jun 2024 09:12:44 GMT\r\n" +
    "Cache-Control: no-store\r\n" +
    "Vary: Accept-Encoding\r\n\r\n",
);

function benchRequest([buf, start, end]: [Uint8Array, number, number]): () => void {
  return () => {
    const at = findHeadEnd(buf, start, end, LIMITS.maxHeadBytes);
    const head = parseRequestHead(buf, start, at, LIMITS);
    requestFraming(head.minor, head.headers);
  };
}

Deno.bench({
  name: "wrk-style request head",
  group: "request head",
  baseline: true,
  fn: benchRequest(WRK),
});
Deno.bench({
  name: "12-header browser request head",
  group: "request head",
  fn: benchRequest(BROWSER),
});

Deno.bench({
  name: "response head (5 fields)",
  group: "response head",
  fn: () => {
    const [buf, start, end] = RESPONSE;
    const at = findHeadEnd(buf, start, end, LIMITS.maxHeadBytes);
    const head = parseResponseHead(buf, start, at, LIMITS);
    responseFraming(head.minor, head.status, head.headers, false);
  },
});

const out = new Uint8Array(4096);
Deno.bench({
  name: "serialize an upstream request head (12 fields)",
  group: "serialize",
  fn: () => {
    const text = requestHeadText("GET", "/static/js/app.js", "shop.example.com", [
      "user-agent",
      "Mozilla/5.0 (X11; Linux x86_64) Chrome/125.0.0.0",
      "accept",
      "*/*",
      "accept-encoding",
      "gzip, deflate, br",
      "referer",
      "https://shop.example.com/cart",
      "cookie",
      "session=7f3e2a9c4b1d8e6f; theme=dark",
      "x-request-id",
      "0b6c6a3e-4a7e-4b1f-9d55-4f3c0e2a1b77",
      "x-forwarded-for",
      "10.0.0.7",
      "x-forwarded-proto",
      "https",
      "sec-fetch-site",
      "same-origin",
      "sec-fetch-mode",
      "no-cors",
      "sec-ch-ua-mobile",
      "?0",
      "sec-ch-ua-platform",
      '"Linux"',
    ], -2);
    encodeHead(text, out);
  },
});

/** A 1 MiB body framed as chunks of `size` bytes, ending with the last chunk. */
function chunkedBody(size: number): Uint8Array {
  const data = new Uint8Array(size).fill(0x61);
  const frame = chunkFrame(data);
  const n = (1024 * 1024) / size;
  const body = new Uint8Array(frame.length * n + 5);
  for (let i = 0; i < n; i++) body.set(frame, i * frame.length);
  body.set(enc.encode("0\r\n\r\n"), frame.length * n);
  return body;
}

for (const [size, read] of [[16 * 1024, 64 * 1024], [1024, 16 * 1024], [64, 16 * 1024]]) {
  const body = chunkedBody(size);
  Deno.bench({
    name: `decode 1 MiB in ${size}-byte chunks, ${read / 1024} KiB reads`,
    group: "chunked decode (MB/s = 1.048576 / ms)",
    fn: () => {
      const d = new ChunkedDecoder(LIMITS);
      let got = 0;
      for (let pos = 0; pos < body.length;) {
        const end = Math.min(body.length, pos + read);
        const next = d.decode(body, pos, end, (c) => got += c.length);
        if (next !== end) break;
        pos = next;
      }
      if (!d.done || got !== 1024 * 1024) throw new Error("decoding went wrong");
    },
  });
}
