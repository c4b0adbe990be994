import type { ViewCache } from "../../core/view_cache.ts";
import { type HeadLimits, latin1Decode, parseFields } from "./h1_head.ts";
import { CR, FIELD_VALUE, LF, lowerAsciiEquals, shortAscii, TCHAR, withRoom } from "./h1_bytes.ts";

/**
 * An upstream response head read for the HTTP/1.1 fast path: the status, the fields that
 * decide framing, and every other field line kept as verbatim bytes, ready to be copied to
 * the client without being decoded, split into names and values, joined and encoded again.
 */
export interface ScannedResponse {
  status: number;
  minor: number;
  /** The framing-relevant fields (`content-length`, `transfer-encoding`, `connection`, `upgrade`), flat. */
  framing: string[];
  /** The end-to-end field lines, each ending in CRLF, verbatim (ASCII only). */
  kept: Uint8Array;
  /** Bytes of the head including the terminating blank line. */
  size: number;
}

const SP = 0x20;
const COLON = 0x3a;

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
// The special names by length: most field names are ruled out by their length alone.
const BY_LENGTH: string[][] = Array.from({ length: 32 }, () => []);
for (const name of Object.keys(SPECIAL)) BY_LENGTH[name.length].push(name);

/** The special name `buf[start, end)` spells (any case), or undefined. */
function specialName(buf: Uint8Array, start: number, end: number): string | undefined {
  const len = end - start;
  if (len >= 32) return undefined;
  const names = BY_LENGTH[len];
  for (let k = 0; k < names.length; k++) {
    if (lowerAsciiEquals(buf, start, names[k])) return names[k];
  }
  return undefined;
}

// Offsets of the kept runs of field lines (start, end pairs), reused across calls.
let runs: Int32Array = new Int32Array(64);

/**
 * Finds and scans a response head at `buf[start, end)` for the common case, byte by byte
 * (no separate search for its end), with the strictness of `findHeadEnd` and
 * `parseResponseHead`.
 *
 * @param end the end of the buffered bytes (the head may end before it)
 * @param scratch where the kept field lines are copied when they fit (a new array
 * otherwise); the result's `kept` is then a view into it, valid until its next use
 * @param views the caller's views of `scratch`, when it keeps them (see `ViewCache`)
 * @returns the scan (its `size` says where the head ends), or `null` when the head is not
 * complete yet or anything is unusual (invalid, bytes ≥ 0x80, a `Connection` header naming
 * other fields, too many fields, a head over the limit); the caller then takes `findHeadEnd`
 * and the strict parser, which wait for more, accept, or reject with the precise reason
 */
export function scanResponseHead(
  buf: Uint8Array,
  start: number,
  end: number,
  limits: HeadLimits,
  scratch?: Uint8Array,
  views?: ViewCache,
): ScannedResponse | null {
  // The head must end within the limit, as `findHeadEnd` requires.
  const max = Math.min(end, start + limits.maxHeadBytes);
  // Status line: HTTP/1.x SP 3DIGIT [SP reason] CRLF, status 100-599.
  if (
    max - start < 16 || buf[start] !== 0x48 || buf[start + 1] !== 0x54 ||
    buf[start + 2] !== 0x54 || buf[start + 3] !== 0x50 || buf[start + 4] !== 0x2f ||
    buf[start + 5] !== 0x31 || buf[start + 6] !== 0x2e || buf[start + 8] !== SP
  ) return null;
  const minor = buf[start + 7] - 0x30;
  const d0 = buf[start + 9] - 0x30;
  const d1 = buf[start + 10] - 0x30;
  const d2 = buf[start + 11] - 0x30;
  if (
    (minor !== 0 && minor !== 1) || d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9
  ) return null;
  let i = start + 12;
  if (buf[i] === SP) {
    i++;
    while (i < max && FIELD_VALUE[buf[i]] === 1) i++;
  }
  if (max - i < 2 || buf[i] !== CR || buf[i + 1] !== LF) return null;
  i += 2;

  const framing: string[] = [];
  let runStart = i;
  let nRuns = 0;
  let keptLength = 0;
  let count = 0;
  for (;;) {
    if (max - i < 2) return null; // not complete yet (or over the limit)
    if (buf[i] === CR) break; // the blank line
    const line = i;
    while (i < max && TCHAR[buf[i]] === 1) i++;
    if (i === line || i >= max || buf[i] !== COLON) return null;
    const colon = i++;
    while (i < max && FIELD_VALUE[buf[i]] === 1) i++;
    // A CTL, a bare CR or LF, a byte ≥ 0x80, or the end of what is buffered.
    if (max - i < 2 || buf[i] !== CR || buf[i + 1] !== LF) return null;
    const eol = i;
    i += 2;
    if (++count > limits.maxHeaders) return null;
    const name = specialName(buf, line, colon);
    if (name === undefined) continue;
    if (line > runStart) {
      nRuns = addRun(nRuns, runStart, line);
      keptLength += line - runStart;
    }
    runStart = i;
    if (SPECIAL[name] === 2) {
      const value = trimmedAscii(buf, colon + 1, eol);
      if (name === "connection" && !plainConnection(value)) return null;
      framing.push(name, value);
    }
  }
  const stop = i;
  if (buf[stop + 1] !== LF) return null;
  if (stop > runStart) {
    nRuns = addRun(nRuns, runStart, stop);
    keptLength += stop - runStart;
  }
  const into = scratch !== undefined && scratch.length >= keptLength
    ? scratch
    : new Uint8Array(keptLength);
  let at = 0;
  for (let k = 0; k < nRuns; k++) {
    const from = runs[k * 2];
    const to = runs[k * 2 + 1];
    // Short runs are copied by hand: cheaper than a view plus `set` for a few dozen bytes.
    if (to - from < 64) { for (let j = from; j < to; j++) into[at++] = buf[j]; }
    else {
      into.set(buf.subarray(from, to), at);
      at += to - from;
    }
  }
  return {
    status: d0 * 100 + d1 * 10 + d2,
    minor,
    framing,
    kept: into.length === keptLength
      ? into
      : views
      ? views.view(into, 0, keptLength)
      : into.subarray(0, keptLength),
    size: stop + 2 - start,
  };
}

/** Records the kept run `[from, to)` as run number `n`; returns the number of runs. */
function addRun(n: number, from: number, to: number): number {
  runs = withRoom(runs, n * 2 + 2);
  runs[n * 2] = from;
  runs[n * 2 + 1] = to;
  return n + 1;
}

// Framing values common enough to be constants (exact bytes).
const COMMON_VALUES = ["keep-alive", "close", "chunked", "Keep-Alive", "Close", "upgrade"];

/** `buf[start, end)` (ASCII) as a string without leading and trailing SP / HTAB. */
function trimmedAscii(buf: Uint8Array, start: number, end: number): string {
  while (start < end && (buf[start] === SP || buf[start] === 0x09)) start++;
  while (end > start && (buf[end - 1] === SP || buf[end - 1] === 0x09)) end--;
  for (const v of COMMON_VALUES) {
    if (v.length !== end - start) continue;
    let k = 0;
    while (k < v.length && buf[start + k] === v.charCodeAt(k)) k++;
    if (k === v.length) return v;
  }
  return shortAscii(buf, start, end);
}

/**
 * True when a Connection value only says keep-alive / upgrade (nothing to strip beyond the
 * hop-by-hop fields). `close` goes to the strict path: like any token it also nominates a
 * field of that name for removal, which only the strict path does.
 */
function plainConnection(value: string): boolean {
  if (value === "keep-alive" || value === "Keep-Alive") return true;
  for (const t of value.split(",")) {
    const v = t.trim().toLowerCase();
    if (v !== "" && v !== "keep-alive" && v !== "upgrade") return false;
  }
  return true;
}

/** Turns kept field lines (ASCII bytes) back into skiff's flat `[name, value, …]` list. */
export function keptToHeaders(kept: Uint8Array, maxHeaders: number): string[] {
  if (kept.length === 0) return [];
  return parseFields(latin1Decode(kept, 0, kept.length) + "\r\n", 0, maxHeaders);
}
