import { HttpParseError } from "./parse_error.ts";
import { findHeadEnd, latin1Decode, parseFields } from "./h1_head.ts";

const enum State {
  Size,
  Data,
  DataCr,
  DataLf,
  Trailers,
  Done,
}

const MAX_SIZE_LINE = 1024;
const CHUNK_LINE = /^([0-9A-Fa-f]{1,13})[ \t]*(;[\t\x20-\x7e\x80-\xff]*)?$/;

/**
 * An incremental, strict decoder for `Transfer-Encoding: chunked` (RFC 9112 §7.1). It
 * validates chunk-size lines (hex only, at most 13 digits, no bare LF, bounded extension
 * length), the CRLF after each chunk, and the trailer section, and hands out the decoded
 * data as views into the input.
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
  readonly #maxHeadBytes: number;
  readonly #maxHeaders: number;
  /** Trailer fields (flat, lower-cased names) once `done`. */
  trailers: string[] = [];

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
        case State.Size: {
          const lf = buf.indexOf(10, pos);
          const stop = lf < 0 || lf >= end ? end : lf;
          this.#line += latin1Decode(buf, pos, stop);
          if (this.#line.length > MAX_SIZE_LINE) {
            throw new HttpParseError("bad_chunk_size", "A chunk-size line is too long");
          }
          if (stop === end) return end;
          pos = lf + 1;
          this.#sizeLine();
          break;
        }
        case State.Data: {
          const n = Math.min(this.#remaining, end - pos);
          onData(buf.subarray(pos, pos + n));
          pos += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = State.DataCr;
          break;
        }
        case State.DataCr:
          if (buf[pos++] !== 13) {
            throw new HttpParseError("bad_chunk", "Chunk data not followed by CRLF");
          }
          this.#state = State.DataLf;
          break;
        case State.DataLf:
          if (buf[pos++] !== 10) {
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

  #sizeLine(): void {
    const line = this.#line;
    this.#line = "";
    if (!line.endsWith("\r")) {
      throw new HttpParseError("bare_lf", "A chunk-size line ends in a bare LF");
    }
    const m = CHUNK_LINE.exec(line.slice(0, -1));
    if (m === null) {
      throw new HttpParseError(
        "bad_chunk_size",
        `Invalid chunk size ${JSON.stringify(line.slice(0, 40))}`,
      );
    }
    this.#remaining = parseInt(m[1], 16);
    if (this.#remaining > 0) {
      this.#state = State.Data;
      return;
    }
    this.#state = State.Trailers;
    this.#trailerBuf = new Uint8Array(256);
    this.#trailerLen = 0;
  }

  // Trailer section: zero or more fields, then CRLF. Collected whole, then parsed.
  #trailerBytes(buf: Uint8Array, pos: number, end: number): number {
    let tb = this.#trailerBuf!;
    while (pos < end) {
      if (this.#trailerLen === tb.length) {
        if (tb.length >= this.#maxHeadBytes) {
          throw new HttpParseError("head_too_large", "The trailer section is too large", 431);
        }
        const bigger = new Uint8Array(tb.length * 2);
        bigger.set(tb);
        tb = this.#trailerBuf = bigger;
      }
      tb[this.#trailerLen++] = buf[pos++];
      const n = this.#trailerLen;
      if (tb[n - 1] !== 10) continue;
      if (n === 2 && tb[0] === 13) {
        this.#state = State.Done;
        this.#trailerBuf = null;
        return pos;
      }
      // A field line ended; is the section complete (blank line)?
      const at = findHeadEnd(tb, 0, n, this.#maxHeadBytes);
      if (at > 0) {
        this.trailers = parseFields(latin1Decode(tb, 0, n), 0, this.#maxHeaders);
        this.#state = State.Done;
        this.#trailerBuf = null;
        return pos;
      }
    }
    return pos;
  }
}
