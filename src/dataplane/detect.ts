import { PREFACE } from "./http2/frame.ts";

/** What the first bytes of a connection look like. */
export type Detected = "http1" | "http2" | "tcp" | "more";

const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]
  .map((m) => new TextEncoder().encode(m + " "));

function prefixState(buf: Uint8Array, start: number, end: number, want: Uint8Array): number {
  const n = Math.min(end - start, want.length);
  for (let i = 0; i < n; i++) if (buf[start + i] !== want[i]) return -1; // mismatch
  return n === want.length ? 1 : 0; // 1: full match, 0: could still match
}

/**
 * Classifies a connection by its first bytes: the HTTP/2 connection preface, an HTTP/1
 * request line (a known method followed by a space), or anything else (opaque TCP).
 * Returns `more` while the bytes seen so far are a prefix of one of the HTTP forms.
 *
 * @example
 * ```ts
 * detectProtocol(new TextEncoder().encode("GET / HTTP/1.1\r\n"), 0, 16); // "http1"
 * ```
 */
export function detectProtocol(buf: Uint8Array, start: number, end: number): Detected {
  if (end <= start) return "more";
  let maybe = false;
  const h2 = prefixState(buf, start, end, PREFACE);
  if (h2 === 1) return "http2";
  if (h2 === 0) maybe = true;
  for (const m of METHODS) {
    const s = prefixState(buf, start, end, m);
    if (s === 1) return "http1";
    if (s === 0) maybe = true;
  }
  return maybe ? "more" : "tcp";
}

/** True when `buf[start, end)` begins with (a prefix of) the HTTP/2 preface. */
export function looksLikeHttp2(buf: Uint8Array, start: number, end: number): boolean {
  return end - start >= 4 && prefixState(buf, start, end, PREFACE) >= 0;
}
