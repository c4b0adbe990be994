import { HttpParseError } from "./parse_error.ts";
import { latin1Decode, parseFields } from "./h1_head.ts";

const enum State {
  Size,
  Data,
  DataCr,
  DataLf,
  Trailers,
  Done,
}

const LF = 10;
const CR = 13;
/** Longest chunk-size line (size, extensions, CR) accepted, in bytes. */
export const MAX_CHUNK_LINE = 1024;
/** At most 13 hex digits: 2^52 - 1 still is an exact integer. */
const MAX_SIZE_DIGITS = 13;

// Hex digit values, -1 for any other byte.
const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX["0123456789abcdef".charCodeAt(i)] = i;
  HEX["0123456789ABCDEF".charCodeAt(i)] = i;
}

// RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] ).
// Whitespace between the size (or the last extension) and the CR is tolerated, as most
// servers do; skiff re-frames bodies, so the extensions themselves are dropped.
const TCHAR = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]";
const QUOTED =
  '"(?:[\\t\\x20\\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t\\x20-\\x7e\\x80-\\xff])*"';
const EXT = `[ \\t]*;[ \\t]*${TCHAR}+(?:[ \\t]*=[ \\t]*(?:${TCHAR}+|${QUOTED}))?`;
const CHUNK_LINE = new RegExp(`^([0-9A-Fa-f]{1,${MAX_SIZE_DIGITS}})(?:${EXT})*[ \\t]*\\r$`);

/**
 * An incremental, strict decoder for `Transfer-Encoding: chunked` (RFC 9112 §7.1). It
 * validates chunk-size lines (hex only, at most 13 digits, no bare LF or CR, well-formed
 * extensions, at most {@link MAX_CHUNK_LINE} bytes), the CRLF after each chunk, and the
 * trailer section (at most `maxHeadBytes`, `maxHeaders` fields), and hands out the decoded
 * data as views into the input. The result does not depend on how the input is split.
 *
 * @example
 * ```ts
 * const d = new ChunkedDecoder({ maxHeadBytes: 8192, maxHeaders: 100 });
 * let pos = d.decode(buf, 0, n, (data) => out.push(data.slice()));
 * if (d.done) console.log(d.trailers);
 * ```
 */
export class ChunkedDecoder {
  #state = State.Size;
  #remaining = 0;
  #line = ""; // partial size line carried across reads
  #trailerBuf: Uint8Array | null = null;
  #trailerLen = 0;
  #trailerLineStart = 0;
  readonly #maxHeadBytes: number;
  readonly #maxHeaders: number;
  /** Trailer fields (flat, lower-cased names) once `done`. */
  trailers: string[] = [];

  /** @param limits `maxHeadBytes` and `maxHeaders` bound the trailer section */
  constructor(limits: { maxHeadBytes: number; maxHeaders: number }) {
    this.#maxHeadBytes = limits.maxHeadBytes;
    this.#maxHeaders = limits.maxHeaders;
  }

  /** True once the last chunk and the trailer section were read. */
  get done(): boolean {
    return this.#state === State.Done;
  }

  /**
   * Consumes bytes of `buf[start, end)`, calling `onData` with each piece of decoded data.
   *
   * @returns the index of the first byte not consumed (bytes after the message stay unread)
   * @throws {HttpParseError} on any framing error
   */
  decode(buf: Uint8Array, start: number, end: number, onData: (data: Uint8Array) => void): number {
    let pos = start;
    while (pos < end) {
      switch (this.#state) {
        case State.Size:
          pos = this.#sizeBytes(buf, pos, end);
          break;
        case State.Data: {
          const n = Math.min(this.#remaining, end - pos);
          onData(buf.subarray(pos, pos + n));
          pos += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = State.DataCr;
          break;
        }
        case State.DataCr:
          if (buf[pos++] !== CR) {
            throw new HttpParseError("bad_chunk", "Chunk data not followed by CRLF");
          }
          this.#state = State.DataLf;
          break;
        case State.DataLf:
          if (buf[pos++] !== LF) {
            throw new HttpParseError("bad_chunk", "Chunk data not followed by CRLF");
          }
          this.#state = State.Size;
          break;
        case State.Trailers:
          pos = this.#trailerBytes(buf, pos, end);
          break;
        case State.Done:
          return pos;
      }
    }
    return pos;
  }

  // Chunk-size line. Lines are short, so a bounded loop beats `indexOf` (which cannot stop
  // at `end`); a plain `<hex>\r\n` line is decoded without building a string.
  #sizeBytes(buf: Uint8Array, pos: number, end: number): number {
    const limit = Math.min(end, pos + MAX_CHUNK_LINE + 1 - this.#line.length);
    let lf = pos;
    while (lf < limit && buf[lf] !== LF) lf++;
    if (lf === limit) {
      if (limit < end) {
        throw new HttpParseError("chunk_line_too_long", "A chunk-size line is too long");
      }
      this.#line += latin1Decode(buf, pos, end);
      return end;
    }
    const digits = lf - 1 - pos;
    if (this.#line === "" && digits > 0 && digits <= MAX_SIZE_DIGITS && buf[lf - 1] === CR) {
      let size = 0;
      let i = pos;
      for (; i < lf - 1; i++) {
        const d = HEX[buf[i]];
        if (d < 0) break;
        size = size * 16 + d;
      }
      if (i === lf - 1) {
        this.#startChunk(size);
        return lf + 1;
      }
    }
    const line = this.#line + latin1Decode(buf, pos, lf);
    this.#line = "";
    this.#startChunk(sizeOf(line));
    return lf + 1;
  }

  #startChunk(size: number): void {
    this.#remaining = size;
    this.#state = size > 0 ? State.Data : State.Trailers;
  }

  // Trailer section: zero or more field lines, then CRLF. Collected whole, then parsed.
  #trailerBytes(buf: Uint8Array, pos: number, end: number): number {
    // Nearly every chunked body ends in a bare "0\r\n\r\n".
    if (this.#trailerLen === 0 && end - pos >= 2 && buf[pos] === CR && buf[pos + 1] === LF) {
      this.#state = State.Done;
      return pos + 2;
    }
    while (pos < end) {
      let lf = pos;
      while (lf < end && buf[lf] !== LF) lf++;
      const stop = lf < end ? lf + 1 : end;
      this.#appendTrailer(buf, pos, stop);
      pos = stop;
      if (lf === end) break;
      const tb = this.#trailerBuf!;
      const n = this.#trailerLen;
      const lineStart = this.#trailerLineStart;
      if (n - 1 === lineStart || tb[n - 2] !== CR) {
        throw new HttpParseError("bare_lf", "A trailer line ends in LF without CR");
      }
      if (n - lineStart === 2) {
        if (n > 2) this.trailers = parseFields(latin1Decode(tb, 0, n), 0, this.#maxHeaders);
        this.#state = State.Done;
        this.#trailerBuf = null;
        return pos;
      }
      this.#trailerLineStart = n;
    }
    return pos;
  }

  #appendTrailer(buf: Uint8Array, from: number, to: number): void {
    const need = this.#trailerLen + to - from;
    if (need > this.#maxHeadBytes) {
      throw new HttpParseError(
        "trailers_too_large",
        `The trailer section exceeds ${this.#maxHeadBytes} bytes`,
        431,
      );
    }
    let tb = this.#trailerBuf;
    if (tb === null || tb.length < need) {
      const bigger = new Uint8Array(Math.min(this.#maxHeadBytes, Math.max(256, need * 2)));
      if (tb !== null) bigger.set(tb.subarray(0, this.#trailerLen));
      tb = this.#trailerBuf = bigger;
    }
    tb.set(buf.subarray(from, to), this.#trailerLen);
    this.#trailerLen = need;
  }
}

/** The size of a complete chunk-size line (`line` ends just before its LF). */
function sizeOf(line: string): number {
  const cr = line.indexOf("\r");
  if (cr < 0) throw new HttpParseError("bare_lf", "A chunk-size line ends in a bare LF");
  if (cr !== line.length - 1) {
    throw new HttpParseError("bare_cr", "A chunk-size line holds a CR not followed by LF");
  }
  const m = CHUNK_LINE.exec(line);
  if (m === null) {
    throw new HttpParseError(
      "bad_chunk_size",
      `Invalid chunk-size line ${JSON.stringify(line.slice(0, 40))}`,
    );
  }
  return parseInt(m[1], 16);
}
