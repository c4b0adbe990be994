import type { ViewCache } from "../../core/view_cache.ts";
import type { HeadLimits, RequestHead } from "./h1_head.ts";
import { CR, FIELD_VALUE, LF, lowerAsciiEquals, TCHAR, withRoom } from "./h1_bytes.ts";

const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

// Field names common enough to be worth a constant: matched on the bytes in any case, they
// cost no string building and no lower-casing, and later comparisons against the same
// constants (`getHeader`, hop-by-hop checks) are pointer-equal.
const KNOWN = [
  "host",
  "user-agent",
  "accept",
  "accept-encoding",
  "accept-language",
  "accept-charset",
  "authorization",
  "cache-control",
  "connection",
  "content-length",
  "content-type",
  "cookie",
  "expect",
  "forwarded",
  "if-match",
  "if-modified-since",
  "if-none-match",
  "keep-alive",
  "origin",
  "pragma",
  "proxy-connection",
  "range",
  "referer",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "via",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "x-real-ip",
  "x-request-id",
  "traceparent",
  "tracestate",
  "grpc-timeout",
  "grpc-encoding",
  "grpc-accept-encoding",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-protocol",
  "sec-websocket-extensions",
];
const BY_LENGTH: string[][] = Array.from({ length: 32 }, () => []);
for (const name of KNOWN) BY_LENGTH[name.length].push(name);

const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE"];

/** The constant among `names` that `buf[start, end)` spells (case-insensitively), if any. */
function known(buf: Uint8Array, start: number, end: number, names: string[][]): string | null {
  const len = end - start;
  if (len >= names.length) return null;
  const list = names[len];
  for (let k = 0; k < list.length; k++) {
    if (lowerAsciiEquals(buf, start, list[k])) return list[k];
  }
  return null;
}

/** The method constant `buf[start, end)` spells exactly (methods are case-sensitive). */
function knownMethod(buf: Uint8Array, start: number, end: number): string | null {
  for (const m of METHODS) {
    if (m.length !== end - start) continue;
    let k = 0;
    while (k < m.length && buf[start + k] === m.charCodeAt(k)) k++;
    if (k === m.length) return m;
  }
  return null;
}

// Offsets found by the first pass, four per field: name start, name end, value start, value
// end. Reused across calls.
let marks: Int32Array = new Int32Array(4 * 64);

const decoder = new TextDecoder();

/**
 * Finds and parses a request head at `buf[start, end)` on the common path, byte by byte: no
 * separate search for the head's end, no regular expressions, one decoder call for the
 * whole head, common field names as constants. Whatever it returns is exactly what
 * `findHeadEnd` and `parseRequestHead` would give, but it only takes pure-ASCII heads.
 *
 * @param end the end of the buffered bytes (the head may end before it)
 * @param views the connection's views of its buffer, when it keeps them (see `ViewCache`)
 * @returns the parsed head (its `size` says where it ends), or `null` when the head is not
 * complete yet or anything is unusual (a malformed line, bytes ≥ 0x80, too many fields, a
 * head over the limit); the caller then takes `findHeadEnd` and `parseRequestHead`, which
 * wait for more, accept, or reject with the precise reason
 */
export function scanRequestHead(
  buf: Uint8Array,
  start: number,
  end: number,
  limits: HeadLimits,
  views?: ViewCache,
): RequestHead | null {
  // The head must end within the limit, as `findHeadEnd` requires.
  const max = Math.min(end, start + limits.maxHeadBytes);
  const maxHeaders = limits.maxHeaders;
  // Request line: method SP target SP HTTP/1.x CRLF.
  let i = start;
  while (i < max && TCHAR[buf[i]] === 1) i++;
  const methodEnd = i;
  if (methodEnd === start || i >= max || buf[i] !== SP) return null;
  const targetStart = ++i;
  while (i < max && buf[i] > SP && buf[i] < 0x7f) i++; // visible ASCII
  const targetEnd = i;
  if (targetEnd === targetStart || max - i < 11) return null;
  if (
    buf[i] !== SP || buf[i + 1] !== 0x48 || buf[i + 2] !== 0x54 || buf[i + 3] !== 0x54 ||
    buf[i + 4] !== 0x50 || buf[i + 5] !== 0x2f || buf[i + 6] !== 0x31 || buf[i + 7] !== 0x2e ||
    buf[i + 9] !== CR || buf[i + 10] !== LF
  ) return null;
  const minor = buf[i + 8] - 0x30;
  if (minor !== 0 && minor !== 1) return null;
  i += 11;

  // Fields: token ":" OWS [value] OWS CRLF, up to the blank line; checked and marked before
  // any string is made.
  let count = 0;
  for (;;) {
    if (max - i < 2) return null; // not complete yet (or over the limit)
    if (buf[i] === CR) {
      if (buf[i + 1] !== LF) return null;
      i += 2;
      break;
    }
    const line = i;
    while (i < max && TCHAR[buf[i]] === 1) i++;
    if (i === line || i >= max || buf[i] !== COLON) return null;
    const colon = i++;
    while (i < max && (buf[i] === SP || buf[i] === HTAB)) i++;
    const valueStart = i;
    while (i < max && FIELD_VALUE[buf[i]] === 1) i++;
    // A CTL, a bare CR or LF, a byte ≥ 0x80, or the end of what is buffered.
    if (max - i < 2 || buf[i] !== CR || buf[i + 1] !== LF) return null;
    let valueEnd = i;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) {
      valueEnd--;
    }
    i += 2;
    if (count >= maxHeaders) return null;
    marks = withRoom(marks, count * 4 + 4);
    marks[count * 4] = line;
    marks[count * 4 + 1] = colon;
    marks[count * 4 + 2] = valueStart;
    marks[count * 4 + 3] = valueEnd;
    count++;
  }

  // Every byte is ASCII now: one decode, and the strings are slices of it.
  const text = decoder.decode(views ? views.view(buf, start, i) : buf.subarray(start, i));
  const headers: string[] = new Array(count * 2);
  for (let k = 0; k < count; k++) {
    const nameStart = marks[k * 4];
    const nameEnd = marks[k * 4 + 1];
    headers[k * 2] = known(buf, nameStart, nameEnd, BY_LENGTH) ??
      text.slice(nameStart - start, nameEnd - start).toLowerCase();
    headers[k * 2 + 1] = text.slice(marks[k * 4 + 2] - start, marks[k * 4 + 3] - start);
  }
  return {
    method: knownMethod(buf, start, methodEnd) ?? text.slice(0, methodEnd - start),
    target: text.slice(targetStart - start, targetEnd - start),
    minor,
    headers,
    size: i - start,
    latin1: false,
  };
}
