import { HttpParseError } from "./parse_error.ts";

/** How an HTTP/1.x message body is delimited, and what its connection header asks for. */
export interface Framing {
  /** `length` (Content-Length), `chunked`, `none` (no body) or `close` (until EOF). */
  kind: "length" | "chunked" | "none" | "close";
  /** Body length for `length`, else -1. */
  length: number;
  /** The connection must close after this message. */
  close: boolean;
  /** Lower-cased tokens of the Connection header (names of more hop-by-hop fields). */
  connection: string[];
  /** The Upgrade protocol when the message asks for (or confirms) an upgrade. */
  upgrade: string | null;
  /** The request carries `Expect: 100-continue`. */
  expectContinue: boolean;
}

const DIGITS = /^\d{1,15}$/;

interface Scan {
  lengths: string[];
  te: string[];
  connection: string[];
  upgrade: string | null;
  expect: string | null;
}

function scan(headers: string[]): Scan {
  const s: Scan = { lengths: [], te: [], connection: [], upgrade: null, expect: null };
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    // Cheap first-character dispatch: almost every field is none of these.
    switch (name.charCodeAt(0)) {
      case 99: // c
        if (name === "content-length") s.lengths.push(headers[i + 1]);
        else if (name === "connection") {
          for (const t of headers[i + 1].split(",")) {
            const v = t.trim().toLowerCase();
            if (v) s.connection.push(v);
          }
        }
        break;
      case 116: // t
        if (name === "transfer-encoding") s.te.push(headers[i + 1]);
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

function contentLength(values: string[], status: number): number {
  let n = -1;
  for (const v of values) {
    const t = v.trim();
    if (!DIGITS.test(t)) {
      throw new HttpParseError(
        "bad_content_length",
        `Invalid Content-Length ${JSON.stringify(v)}`,
        status,
      );
    }
    const k = Number(t);
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

function keepAlive(minor: number, connection: string[]): boolean {
  if (connection.includes("close")) return false;
  return minor === 1 || connection.includes("keep-alive");
}

/**
 * Decides how a request body is framed, strictly (smuggling-safe): Transfer-Encoding
 * together with Content-Length, conflicting Content-Length values, a Transfer-Encoding
 * other than exactly `chunked`, or Transfer-Encoding on HTTP/1.0 are all rejected.
 *
 * @throws {HttpParseError} 400 on ambiguous framing, 501 on an unsupported coding
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
    if (s.te.length > 1 || s.te[0].trim().toLowerCase() !== "chunked") {
      throw new HttpParseError(
        "bad_transfer_encoding",
        `Unsupported Transfer-Encoding ${JSON.stringify(s.te.join(", "))}`,
        501,
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
 * @param status the response status
 * @param headRequest the request was HEAD (the response has no body)
 * @throws {HttpParseError} 502 on ambiguous or invalid framing
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
    const codings = s.te.join(",").split(",").map((t) => t.trim().toLowerCase());
    if (codings[codings.length - 1] === "chunked" && codings.length === 1) {
      f.kind = "chunked";
    } else {
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
