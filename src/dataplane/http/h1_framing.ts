import { HttpParseError } from "./parse_error.ts";

/** How an HTTP/1.x message body is delimited, and what its connection header asks for. */
export interface Framing {
  /** `length` (Content-Length), `chunked`, `none` (no body) or `close` (until EOF). */
  kind: "length" | "chunked" | "none" | "close";
  /** Body length for `length`, else -1. */
  length: number;
  /** The connection must close after this message. */
  close: boolean;
  /** Lower-cased tokens of the Connection header (names of more hop-by-hop fields); read only. */
  connection: string[];
  /** The Upgrade protocol when the message asks for (or confirms) an upgrade. */
  upgrade: string | null;
  /** The request carries `Expect: 100-continue`. */
  expectContinue: boolean;
}

// Shared lists, frozen so that no caller can change them for everyone.
const NONE = Object.freeze([]) as unknown as string[];
// Connection values common enough to skip splitting.
const KEEP_ALIVE = Object.freeze(["keep-alive"]) as unknown as string[];
const CLOSE = Object.freeze(["close"]) as unknown as string[];

interface Scan {
  lengths: string[];
  te: string[];
  connection: string[];
  upgrade: string | null;
  expect: string | null;
}

// One scan, reused by every call: `scan`'s callers are done with it before they return (only
// `connection`, a list of its own or a shared frozen one, goes into their result).
const SCAN: Scan = { lengths: NONE, te: NONE, connection: NONE, upgrade: null, expect: null };
const LENGTHS: string[] = [];
const TE: string[] = [];

/**
 * The framing fields of a head, in the one reused `SCAN`. Lists stay the shared empty `NONE`
 * until a field shows up.
 */
function scan(headers: string[]): Scan {
  const s = SCAN;
  s.lengths = s.te = s.connection = NONE;
  s.upgrade = s.expect = null;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    // Cheap first-character dispatch: almost every field is none of these.
    switch (name.charCodeAt(0)) {
      case 99: // c
        if (name === "content-length") {
          if (s.lengths === NONE) (s.lengths = LENGTHS).length = 0;
          s.lengths.push(headers[i + 1]);
        } else if (name === "connection") connectionTokens(s, headers[i + 1]);
        break;
      case 116: // t
        if (name === "transfer-encoding") {
          if (s.te === NONE) (s.te = TE).length = 0;
          s.te.push(headers[i + 1]);
        }
        break;
      case 117: // u
        if (name === "upgrade") s.upgrade = headers[i + 1];
        break;
      case 101: // e
        if (name === "expect") s.expect = headers[i + 1];
        break;
    }
  }
  return s;
}

/** Adds the lower-cased tokens of a Connection value to `s.connection`. */
function connectionTokens(s: Scan, value: string): void {
  if (s.connection === NONE) {
    // One plain value, the common case: a shared list, no splitting.
    if (value === "keep-alive" || value === "Keep-Alive") {
      s.connection = KEEP_ALIVE;
      return;
    }
    if (value === "close" || value === "Close") {
      s.connection = CLOSE;
      return;
    }
    s.connection = [];
  } else if (s.connection === KEEP_ALIVE || s.connection === CLOSE) {
    s.connection = [...s.connection];
  }
  for (const t of value.split(",")) {
    const v = t.trim().toLowerCase();
    if (v) s.connection.push(v);
  }
}

/** True for 1*DIGIT (RFC 9110 §8.6) of at most 15 digits, so that it stays an exact integer. */
function isDigits(v: string): boolean {
  if (v.length === 0 || v.length > 15) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function contentLength(values: string[], status: number): number {
  let n = -1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    // The parser already cut the OWS; `trim()` would also accept U+00A0 and friends.
    if (!isDigits(v)) {
      throw new HttpParseError(
        "bad_content_length",
        `Invalid Content-Length ${JSON.stringify(v)}`,
        status,
      );
    }
    const k = Number(v);
    if (n >= 0 && k !== n) {
      throw new HttpParseError(
        "duplicate_content_length",
        "Conflicting Content-Length values",
        status,
      );
    }
    n = k;
  }
  return n;
}

/** The last transfer coding named by the Transfer-Encoding field lines, lower-cased. */
function lastCoding(te: string[]): string {
  const list = te[te.length - 1];
  return list.slice(list.lastIndexOf(",") + 1).replace(/^[ \t]+/, "").toLowerCase();
}

function keepAlive(minor: number, connection: string[]): boolean {
  if (connection.includes("close")) return false;
  return minor === 1 || connection.includes("keep-alive");
}

/**
 * Decides how a request body is framed, strictly (smuggling-safe): Transfer-Encoding
 * together with Content-Length, conflicting or malformed Content-Length values, a
 * Transfer-Encoding other than exactly `chunked` (one field line), or Transfer-Encoding on
 * HTTP/1.0 are all rejected.
 *
 * @param minor the request's minor version (0 or 1)
 * @param headers the flat header list from `parseRequestHead`
 * @throws {HttpParseError} 400 on ambiguous framing, 501 when chunked follows another coding
 */
export function requestFraming(minor: number, headers: string[]): Framing {
  const s = scan(headers);
  const upgrade = s.upgrade !== null && s.connection.includes("upgrade") ? s.upgrade : null;
  const f: Framing = {
    kind: "none",
    length: -1,
    close: !keepAlive(minor, s.connection),
    connection: s.connection,
    upgrade,
    expectContinue: s.expect !== null && s.expect.trim().toLowerCase() === "100-continue",
  };
  if (s.te.length > 0) {
    if (s.lengths.length > 0) {
      throw new HttpParseError("cl_te", "Both Transfer-Encoding and Content-Length are present");
    }
    if (minor === 0) {
      throw new HttpParseError("te_http10", "Transfer-Encoding is not allowed in HTTP/1.0");
    }
    if (s.te.length > 1 || s.te[0].toLowerCase() !== "chunked") {
      // RFC 9112 §6.1: chunked not last → the length is unknowable → 400 and close; chunked
      // last after other codings → a coding skiff does not implement → 501.
      const te = s.te.join(", ");
      const chunkedLast = lastCoding(s.te) === "chunked";
      throw new HttpParseError(
        chunkedLast ? "unsupported_transfer_coding" : "bad_transfer_encoding",
        `${chunkedLast ? "Unsupported" : "Invalid"} Transfer-Encoding ${JSON.stringify(te)}`,
        chunkedLast ? 501 : 400,
      );
    }
    f.kind = "chunked";
    return f;
  }
  const n = contentLength(s.lengths, 400);
  if (n > 0) {
    f.kind = "length";
    f.length = n;
  }
  return f;
}

/**
 * Decides how a response body is framed (RFC 9112 §6.3), rejecting ambiguous framing.
 *
 * @param minor the response's minor version (0 or 1)
 * @param status the response status
 * @param headers the flat header list from `parseResponseHead`
 * @param headRequest the request was HEAD (the response has no body)
 * @throws {HttpParseError} 502 on ambiguous or invalid framing, or a transfer coding other
 * than chunked that would have to be undone
 */
export function responseFraming(
  minor: number,
  status: number,
  headers: string[],
  headRequest: boolean,
): Framing {
  const s = scan(headers);
  const f: Framing = {
    kind: "none",
    length: -1,
    close: !keepAlive(minor, s.connection),
    connection: s.connection,
    upgrade: status === 101 ? s.upgrade : null,
    expectContinue: false,
  };
  if (headRequest || status < 200 || status === 204 || status === 304) return f;
  if (s.te.length > 0) {
    if (s.lengths.length > 0) {
      throw new HttpParseError("cl_te", "Upstream sent Transfer-Encoding and Content-Length", 502);
    }
    if (minor === 0) {
      // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing.
      throw new HttpParseError("te_http10", "Upstream sent Transfer-Encoding in HTTP/1.0", 502);
    }
    if (s.te.length === 1 && s.te[0].toLowerCase() === "chunked") {
      f.kind = "chunked";
    } else if (lastCoding(s.te) === "chunked") {
      // Chunked after another coding (gzip, or chunked twice): skiff can undo only the
      // chunked framing, and relaying the rest without its header would corrupt the body.
      throw new HttpParseError(
        "unsupported_transfer_coding",
        `Upstream sent an unsupported Transfer-Encoding ${JSON.stringify(s.te.join(", "))}`,
        502,
      );
    } else {
      // Chunked is not the final coding: the body runs until the close (RFC 9112 §6.3).
      f.kind = "close";
      f.close = true;
    }
    return f;
  }
  const n = contentLength(s.lengths, 502);
  if (n >= 0) {
    f.kind = n > 0 ? "length" : "none";
    f.length = n;
  } else {
    f.kind = "close";
    f.close = true;
  }
  return f;
}
