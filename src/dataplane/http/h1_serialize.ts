const encoder = new TextEncoder();

/** Standard reason phrases for status codes skiff generates or relays without one. */
export const REASONS: Record<number, string> = {
  100: "Continue",
  101: "Switching Protocols",
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  304: "Not Modified",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Content Too Large",
  414: "URI Too Long",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

/**
 * Encodes a head (already joined with CRLFs) into `out` at `offset`, as ASCII when possible
 * and as Latin-1 otherwise, so field bytes ≥ 0x80 pass through unchanged.
 *
 * @returns the number of bytes written, or -1 when `out` is too small
 */
export function encodeHead(text: string, out: Uint8Array, offset = 0): number {
  if (text.length > out.length - offset) return -1;
  // Every UTF-16 unit at or above 0x80 takes two or more UTF-8 bytes: one byte per unit
  // means the text was ASCII (cheaper than scanning it first).
  const { read, written } = encoder.encodeInto(text, offset === 0 ? out : out.subarray(offset));
  if (read === text.length && written === text.length) return written;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out[offset + i] = c > 0xff ? 0x3f : c;
  }
  return text.length;
}

// Encoded status lines by status code, made on first use.
const STATUS_LINES: (Uint8Array | undefined)[] = [];

/** `HTTP/1.1 <status> <reason>\r\n`, encoded once per status code. */
export function statusLine(status: number): Uint8Array {
  let line = STATUS_LINES[status];
  if (line === undefined) {
    line = encoder.encode("HTTP/1.1 " + status + " " + (REASONS[status] ?? "Unknown") + "\r\n");
    STATUS_LINES[status] = line;
  }
  return line;
}

/**
 * Writes `s` into `out` at `n` the way `encodeHead` encodes a head (one byte per UTF-16
 * unit: Latin-1, `?` above 0xFF), without building a string first or calling the encoder.
 *
 * @returns the offset after it, or -1 when it does not fit (or `n` is already -1)
 */
export function put(out: Uint8Array, n: number, s: string): number {
  if (n < 0 || n + s.length > out.length) return -1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[n++] = c > 0xff ? 0x3f : c;
  }
  return n;
}

/**
 * Encodes a response head from bytes: the status line and `fields` (verbatim field lines, as
 * relayed from an HTTP/1.1 upstream) into `out`; the caller `put`s the framing fields and the
 * blank line after them.
 *
 * @returns the number of bytes written, or -1 when `out` is too small
 */
export function encodeResponseHead(out: Uint8Array, status: number, fields: Uint8Array): number {
  const line = statusLine(status);
  const n = line.length + fields.length;
  if (n > out.length) return -1;
  out.set(line);
  out.set(fields, line.length);
  return n;
}

/** Joins a flat header list as `name: value\r\n` lines. */
export function fieldLines(headers: string[]): string {
  let s = "";
  for (let i = 0; i < headers.length; i += 2) s += headers[i] + ": " + headers[i + 1] + "\r\n";
  return s;
}

/**
 * The head of a request to an upstream: request line, `host`, fields and framing.
 *
 * @param length body length, -1 for chunked, -2 for no body
 */
export function requestHeadText(
  method: string,
  path: string,
  authority: string,
  headers: string[],
  length: number,
  extra = "",
): string {
  let s = method + " " + path + " HTTP/1.1\r\nhost: " + authority + "\r\n" + fieldLines(headers);
  if (length >= 0) s += "content-length: " + length + "\r\n";
  else if (length === -1) s += "transfer-encoding: chunked\r\n";
  return s + extra + "\r\n";
}

const NO_BYTES = new Uint8Array(0);

/**
 * Frames `data` as one chunk of a chunked body (size line, data, CRLF) into a new array.
 * Empty data gives no bytes at all: a zero-size chunk would end the body (RFC 9112 §7.1).
 */
export function chunkFrame(data: Uint8Array): Uint8Array {
  if (data.length === 0) return NO_BYTES;
  const size = data.length.toString(16) + "\r\n";
  const out = new Uint8Array(size.length + data.length + 2);
  encoder.encodeInto(size, out);
  out.set(data, size.length);
  out[out.length - 2] = 13;
  out[out.length - 1] = 10;
  return out;
}

/** The last chunk with optional trailer fields. */
export function lastChunk(trailers: string[] | null): Uint8Array {
  const text = "0\r\n" + (trailers ? fieldLines(trailers) : "") + "\r\n";
  const out = new Uint8Array(text.length);
  encodeHead(text, out);
  return out;
}
