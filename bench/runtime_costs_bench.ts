/**
 * What basic runtime operations cost on this machine — the numbers skiff's hot-path
 * choices rest on (one timer wheel instead of a timer per request, a cached clock, reused
 * buffers and slab copies instead of fresh typed arrays, one `encodeInto` per head).
 *
 * ```
 * deno bench bench/runtime_costs_bench.ts
 * ```
 * @module
 */
const head = "GET /hello HTTP/1.1\r\nhost: 127.0.0.1:10000\r\nuser-agent: wrk\r\n" +
  "accept: */*\r\nx-forwarded-for: 127.0.0.1\r\nx-request-id: 3f2b9c1e-8a7d-4c5b\r\n\r\n";
const out = new Uint8Array(4096);
const bytes = new TextEncoder().encode(head);
const encoder = new TextEncoder();
const decoder = new TextDecoder();
let sink = 0;

Deno.bench("new Uint8Array(128)", () => {
  sink += new Uint8Array(128).length;
});
Deno.bench("Uint8Array#subarray", () => {
  sink += bytes.subarray(0, 100).length;
});
Deno.bench("performance.now()", () => {
  sink += performance.now();
});
Deno.bench("Date.now()", () => {
  sink += Date.now();
});
Deno.bench("setTimeout + clearTimeout", () => {
  clearTimeout(setTimeout(() => {}, 10_000));
});
Deno.bench("TextEncoder#encodeInto, 160-char head", () => {
  sink += encoder.encodeInto(head, out).written;
});
Deno.bench("charCodeAt loop into bytes, 160-char head (encodeInto by hand)", () => {
  let n = 0;
  for (let i = 0; i < head.length; i++) {
    const c = head.charCodeAt(i);
    out[n++] = c > 0xff ? 0x3f : c;
  }
  sink += n;
});
Deno.bench("TextDecoder#decode, 160-byte head", () => {
  sink += decoder.decode(bytes).length;
});
Deno.bench("crypto.randomUUID()", () => {
  sink += crypto.randomUUID().length;
});
Deno.bench("await of a resolved promise", async () => {
  sink += await Promise.resolve(1);
});
