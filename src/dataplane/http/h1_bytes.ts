/**
 * Byte classes and small helpers shared by the byte-level HTTP/1.1 head scanners
 * (`h1_request_scan.ts`, `h1_response_scan.ts`).
 *
 * @module
 */

export const CR = 13;
export const LF = 10;

/** 1 for the bytes of a token (RFC 9110 §5.6.2 tchar), else 0. */
export const TCHAR: Uint8Array = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TCHAR[c.charCodeAt(0)] = 1;
}

/**
 * 1 for the bytes a field value may hold on the fast paths: HTAB, SP and visible ASCII.
 * Bytes ≥ 0x80 (obs-text) are left to the strict parsers, which decode them as Latin-1.
 */
export const FIELD_VALUE: Uint8Array = new Uint8Array(256);
FIELD_VALUE[0x09] = 1;
FIELD_VALUE.fill(1, 0x20, 0x7f);

/**
 * True when the token bytes starting at `buf[start]` spell `lower` (a lower-case name)
 * in any case; the caller has checked that the lengths match.
 */
export function lowerAsciiEquals(buf: Uint8Array, start: number, lower: string): boolean {
  for (let k = 0; k < lower.length; k++) {
    // Among token bytes only A–Z and a–z map onto a–z when OR-ed with 0x20.
    if ((buf[start + k] | 0x20) !== lower.charCodeAt(k)) return false;
  }
  return true;
}

const decoder = new TextDecoder();

/** `buf[start, end)`, known to be ASCII, as a string: short ones built without a decoder call. */
export function shortAscii(buf: Uint8Array, start: number, end: number): string {
  if (end - start > 16) return decoder.decode(buf.subarray(start, end));
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]);
  return s;
}

/** `a` when it holds at least `size` numbers, else a copy of it twice as large (or more). */
export function withRoom(a: Int32Array, size: number): Int32Array {
  if (size <= a.length) return a;
  const more = new Int32Array(Math.max(size, a.length * 2));
  more.set(a);
  return more;
}
