import { parseFields } from "./h1_head.ts";

/**
 * An upstream response head read for the HTTP/1.1 fast path: the status, the fields that
 * decide framing, and every other field line kept verbatim, ready to be copied to the client
 * without being split into names and values and joined again.
 */
export interface ScannedResponse {
  status: number;
  minor: number;
  /** The framing-relevant fields (`content-length`, `transfer-encoding`, `connection`, `upgrade`), flat. */
  framing: string[];
  /** The end-to-end field lines, each ending in CRLF, verbatim. */
  kept: string;
}

const decoder = new TextDecoder();

// One linear pass validates every field line at once: token name, colon, value of visible
// ASCII, space and HTAB, CRLF — no obs-fold, no whitespace before the colon, no control
// characters, no bytes ≥ 0x80 (those go to the strict parser, which knows Latin-1).
const FIELDS = /^(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e]*\r\n)*\r\n$/;
const STATUS = /^HTTP\/1\.([01]) ([1-5]\d\d)(?: [\t\x20-\x7e]*)?\r\n/;

/** Hop-by-hop or framing fields: 1 = drop, 2 = drop and keep for framing. */
const SPECIAL: Record<string, number> = {
  "connection": 2,
  "keep-alive": 1,
  "proxy-connection": 1,
  "transfer-encoding": 2,
  "te": 1,
  "trailer": 1,
  "upgrade": 2,
  "host": 1,
  "content-length": 2,
  "http2-settings": 1,
};
// Most field names are ruled out by their length alone, without building a string.
const LENGTHS = new Uint8Array(32);
for (const name of Object.keys(SPECIAL)) LENGTHS[name.length] = 1;

/**
 * Scans a complete response head `buf[start, end)` (delimited by `findHeadEnd`) for the
 * common case, with the strictness of `parseResponseHead`.
 *
 * @returns the scan, or `null` whenever anything is unusual (invalid, Latin-1 bytes, a
 * `Connection` header naming other fields, too many fields); the caller then takes the strict
 * parser, which accepts or rejects with the precise reason
 */
export function scanResponseHead(
  buf: Uint8Array,
  start: number,
  end: number,
  maxHeaders: number,
): ScannedResponse | null {
  const text = decoder.decode(buf.subarray(start, end));
  const m = STATUS.exec(text);
  if (m === null || text.length !== end - start) return null;
  const from = m[0].length;
  if (!FIELDS.test(from === 0 ? text : text.slice(from))) return null;
  const stop = text.length - 2;
  const framing: string[] = [];
  let kept = "";
  let run = from;
  let count = 0;
  for (let pos = from; pos < stop;) {
    const colon = text.indexOf(":", pos);
    const eol = text.indexOf("\r\n", colon);
    if (++count > maxHeaders) return null;
    const len = colon - pos;
    if (len < 32 && LENGTHS[len] === 1) {
      const name = text.slice(pos, colon).toLowerCase();
      const kind = SPECIAL[name];
      if (kind !== undefined) {
        if (pos > run) kept += text.slice(run, pos);
        run = eol + 2;
        if (kind === 2) {
          const value = text.slice(colon + 1, eol).trim();
          if (name === "connection" && !plainConnection(value)) return null;
          framing.push(name, value);
        }
      }
    }
    pos = eol + 2;
  }
  if (stop > run) kept += text.slice(run, stop);
  return { status: Number(m[2]), minor: m[1] === "1" ? 1 : 0, framing, kept };
}

/** True when a Connection value only says close / keep-alive / upgrade (nothing to strip). */
function plainConnection(value: string): boolean {
  for (const t of value.split(",")) {
    const v = t.trim().toLowerCase();
    if (v !== "" && v !== "close" && v !== "keep-alive" && v !== "upgrade") return false;
  }
  return true;
}

/** Turns kept field lines back into skiff's flat `[name, value, …]` list. */
export function keptToHeaders(kept: string, maxHeaders: number): string[] {
  if (kept.length === 0) return [];
  return parseFields(kept + "\r\n", 0, maxHeaders);
}
