import { HttpParseError } from "./parse_error.ts";

/** Limits applied while parsing a message head. */
export interface HeadLimits {
  /** Largest head (start line + fields + blank line) in bytes. */
  maxHeadBytes: number;
  /** Largest number of header fields. */
  maxHeaders: number;
}

/** A parsed HTTP/1.x request head. Header names are lower-cased; values are trimmed. */
export interface RequestHead {
  method: string;
  target: string;
  /** Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number;
  /** Flat list `[name, value, name, value, …]` in arrival order. */
  headers: string[];
  /** Bytes of the head including the terminating blank line. */
  size: number;
  /** True when the head held bytes ≥ 0x80 (values must be re-encoded as Latin-1). */
  latin1: boolean;
}

/** A parsed HTTP/1.x response head. */
export interface ResponseHead {
  status: number;
  reason: string;
  minor: number;
  headers: string[];
  size: number;
  latin1: boolean;
}

const LF = 10;
const CR = 13;
// `ignoreBOM` keeps a leading EF BB BF as U+FEFF instead of silently dropping it, so such a
// head goes down the Latin-1 path and fails the method check like any other non-token byte.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Finds the end of a message head in `buf[start, end)`.
 *
 * @returns the index just past the blank line, or -1 when the head is not complete yet
 * @throws {HttpParseError} on a line ending in a bare LF, or when the head exceeds the limit
 */
export function findHeadEnd(buf: Uint8Array, start: number, end: number, maxBytes: number): number {
  // A plain loop bounded by `end`: `Uint8Array#indexOf` cannot stop at `end` and would scan
  // the whole (mostly stale) rest of the buffer when the head is incomplete.
  const stop = Math.min(end, start + maxBytes);
  let lineStart = start;
  for (let i = start; i < stop; i++) {
    if (buf[i] !== LF) continue;
    if (i === start || buf[i - 1] !== CR) {
      throw new HttpParseError("bare_lf", "A line ends in LF without CR");
    }
    if (i - lineStart === 1) return i + 1;
    lineStart = i + 1;
  }
  if (end - start > maxBytes) {
    throw new HttpParseError("head_too_large", `The message head exceeds ${maxBytes} bytes`, 431);
  }
  return -1;
}

/** Decodes `buf[start, end)` as Latin-1 (bytes map 1:1 onto code points 0–255). */
export function latin1Decode(buf: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i += 4096) {
    s += String.fromCharCode.apply(null, buf.subarray(i, Math.min(end, i + 4096)) as never);
  }
  return s;
}

function decodeHead(buf: Uint8Array, start: number, end: number): [string, boolean] {
  const text = decoder.decode(buf.subarray(start, end));
  // Only pure ASCII decodes to one UTF-16 unit per byte with no U+FFFD: a valid multi-byte
  // sequence shortens the text and an invalid byte becomes U+FFFD. (Cheaper than a regex
  // scan: V8 answers `includes` of a non-Latin-1 char in a one-byte string at once.)
  if (text.length === end - start && !text.includes("\ufffd")) return [text, false];
  return [latin1Decode(buf, start, end), true];
}

const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const TOKEN_ONLY = new RegExp(`^${TOKEN}$`);
const REQUEST_LINE = new RegExp(`^(${TOKEN}) ([\\x21-\\x7e\\x80-\\xff]+) HTTP/1\\.([01])\\r\\n`);
// Status codes outside 100–599 are invalid (RFC 9110 §15).
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-5]\d\d)(?: ([\t\x20-\x7e\x80-\xff]*))?\r\n/;
// The value starts at a visible character and runs greedily to the CR; trailing OWS is cut
// off in code. Every position can be reached one way only, so a failing line costs linear
// time. (A lazy value between two `[ \t]*` is cubic on a long run of whitespace: a single
// 6 KB header line took 30 s to reject.)
const FIELD = new RegExp(
  `(${TOKEN}):[ \\t]*([\\x21-\\x7e\\x80-\\xff][\\t\\x20-\\x7e\\x80-\\xff]*)?\\r\\n`,
  "y",
);

/**
 * Parses header fields from `text` starting at `pos` up to the blank line; strict: no
 * obs-fold, no whitespace before the colon, no control characters in values.
 *
 * @returns the flat `[name, value, …]` list with lower-cased names
 * @throws {HttpParseError} on any malformed field or when there are too many
 */
export function parseFields(text: string, pos: number, maxHeaders: number): string[] {
  const headers: string[] = [];
  const end = text.length - 2; // the blank line's CRLF
  while (pos < end) {
    FIELD.lastIndex = pos;
    const m = FIELD.exec(text);
    if (m === null) throw fieldError(text, pos);
    headers.push(m[1].toLowerCase(), m[2] === undefined ? "" : trimEnd(m[2]));
    if (headers.length > maxHeaders * 2) {
      throw new HttpParseError("too_many_headers", `More than ${maxHeaders} header fields`, 431);
    }
    pos = FIELD.lastIndex;
  }
  return headers;
}

/** `value` without trailing SP / HTAB (not `trimEnd()`, which also drops U+00A0 and more). */
function trimEnd(value: string): string {
  let e = value.length;
  for (let c = value.charCodeAt(e - 1); c === 0x20 || c === 0x09; c = value.charCodeAt(e - 1)) e--;
  return e === value.length ? value : value.slice(0, e);
}

function lineAt(text: string, pos: number): string {
  const eol = text.indexOf("\r\n", pos);
  return text.slice(pos, eol < 0 ? text.length : eol);
}

function fieldError(text: string, pos: number): HttpParseError {
  const line = lineAt(text, pos);
  if (line.includes("\r")) return bareCr();
  const c = line.charCodeAt(0);
  if (c === 0x20 || c === 0x09) {
    return new HttpParseError("obs_fold", "A header line starts with whitespace (obs-fold)");
  }
  const colon = line.indexOf(":");
  if (colon < 0) return new HttpParseError("bad_header", "A header line has no colon");
  if (/[ \t]$/.test(line.slice(0, colon))) {
    return new HttpParseError("space_before_colon", "A header name is followed by whitespace");
  }
  if (!TOKEN_ONLY.test(line.slice(0, colon))) {
    return new HttpParseError("bad_header_name", "A header name has invalid characters");
  }
  return new HttpParseError("bad_header_value", "A header value has control characters");
}

/**
 * Parses a complete request head `buf[start, end)` (as delimited by `findHeadEnd`).
 *
 * @throws {HttpParseError} when the request line or a field is malformed
 */
export function parseRequestHead(
  buf: Uint8Array,
  start: number,
  end: number,
  limits: HeadLimits,
): RequestHead {
  const [text, latin1] = decodeHead(buf, start, end);
  const m = REQUEST_LINE.exec(text);
  if (m === null) throw requestLineError(text);
  const headers = parseFields(text, m[0].length, limits.maxHeaders);
  return {
    method: m[1],
    target: m[2],
    minor: m[3] === "1" ? 1 : 0,
    headers,
    size: end - start,
    latin1,
  };
}

function bareCr(): HttpParseError {
  return new HttpParseError("bare_cr", "A CR is not followed by LF");
}

function requestLineError(text: string): HttpParseError {
  const line = lineAt(text, 0);
  if (line.includes("\r")) return bareCr();
  const version = /HTTP\/(\d)\.(\d)$/.exec(line);
  if (version && !(version[1] === "1" && (version[2] === "0" || version[2] === "1"))) {
    return new HttpParseError("bad_version", `Unsupported version "${version[0]}"`, 505);
  }
  return new HttpParseError(
    "bad_request_line",
    `Malformed request line ${JSON.stringify(line.slice(0, 80))}`,
  );
}

/**
 * Parses a complete response head `buf[start, end)`.
 *
 * @throws {HttpParseError} when the status line or a field is malformed
 */
export function parseResponseHead(
  buf: Uint8Array,
  start: number,
  end: number,
  limits: HeadLimits,
): ResponseHead {
  const [text, latin1] = decodeHead(buf, start, end);
  const m = STATUS_LINE.exec(text);
  if (m === null) {
    const line = lineAt(text, 0);
    throw new HttpParseError(
      "bad_status_line",
      `Malformed status line ${JSON.stringify(line.slice(0, 80))}`,
      502,
    );
  }
  const headers = parseFields(text, m[0].length, limits.maxHeaders);
  return {
    status: Number(m[2]),
    reason: m[3] ?? "",
    minor: m[1] === "1" ? 1 : 0,
    headers,
    size: end - start,
    latin1,
  };
}
