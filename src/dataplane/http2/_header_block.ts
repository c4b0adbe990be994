import { ErrorCode, Flag, H2ConnectionError } from "./frame.ts";
import { HpackDecoder } from "./hpack_decoder.ts";
import { HpackError } from "./hpack_error.ts";

/** CONTINUATION frames one header block may take (each must make progress). */
const MAX_CONTINUATIONS = 512;

/**
 * Reads the header blocks a peer sends: joins one that arrives split over HEADERS and
 * CONTINUATION frames (RFC 9113 §4.3, §6.10), and decodes each with the connection's HPACK
 * decoder. A block larger than twice the largest header list we accept, or spread over more
 * than 512 CONTINUATION frames, ends the connection with ENHANCE_YOUR_CALM before it is
 * decoded (CONTINUATION floods).
 */
export class HeaderBlock {
  readonly #decoder: HpackDecoder;
  #tooLarge = false;
  #stream = 0;
  #flags = 0;
  #selfDep = false;
  #frames = 0;
  #block: Uint8Array | null = null;
  #len = 0;
  readonly #maxBytes: number;

  /** @param maxHeaderListSize the largest decoded header list we accept */
  constructor(maxHeaderListSize: number) {
    this.#decoder = new HpackDecoder(4096, maxHeaderListSize);
    this.#maxBytes = maxHeaderListSize * 2;
  }

  /** True while a block waits for CONTINUATION: any other frame is a connection error. */
  get pending(): boolean {
    return this.#block !== null;
  }

  /** Flags of the HEADERS frame that began the block (END_STREAM, PRIORITY). */
  get flags(): number {
    return this.#flags;
  }

  /** True when that HEADERS frame made its stream depend on itself. */
  get selfDep(): boolean {
    return this.#selfDep;
  }

  /** Octets in the block so far. */
  get length(): number {
    return this.#len;
  }

  /** Begins a block with the fragment `b[s, e)` of a HEADERS frame without END_HEADERS. */
  start(id: number, flags: number, selfDep: boolean, b: Uint8Array, s: number, e: number): void {
    this.#stream = id;
    this.#flags = flags;
    this.#selfDep = selfDep;
    this.#frames = 0;
    this.#block = new Uint8Array(Math.max(4096, (e - s) * 2));
    this.#block.set(b.subarray(s, e));
    this.#len = e - s;
  }

  /**
   * Adds the fragment `b[s, e)` of a CONTINUATION frame.
   *
   * @returns the whole block (its first `length` octets) when this frame ended it, else null
   * @throws {H2ConnectionError} PROTOCOL_ERROR for a CONTINUATION no block expects,
   *   ENHANCE_YOUR_CALM for a block over the limits
   */
  append(id: number, flags: number, b: Uint8Array, s: number, e: number): Uint8Array | null {
    if (this.#block === null || id !== this.#stream) {
      throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "unexpected CONTINUATION");
    }
    const need = this.#len + (e - s);
    if (need > this.#maxBytes || ++this.#frames > MAX_CONTINUATIONS) {
      throw new H2ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, "header block too large");
    }
    if (need > this.#block.length) {
      const bigger = new Uint8Array(need * 2);
      bigger.set(this.#block.subarray(0, this.#len));
      this.#block = bigger;
    }
    this.#block.set(b.subarray(s, e), this.#len);
    this.#len = need;
    if ((flags & Flag.END_HEADERS) === 0) return null;
    const block = this.#block;
    this.#block = null;
    return block;
  }

  /**
   * Decodes a complete block `b[s, e)`. Every block must be decoded, whatever becomes of
   * its stream, so that the HPACK table stays in step with the peer's.
   *
   * @returns its fields (names and values alternating); none when the decoded list is over
   *   the size limit, and then `tooLarge` is true
   * @throws {HpackError} when the block cannot be decoded (a connection error)
   */
  decode(b: Uint8Array, s: number, e: number): string[] {
    this.#tooLarge = false;
    try {
      return this.#decoder.decode(b, s, e);
    } catch (err) {
      if (!(err instanceof HpackError && err.tooLarge)) throw err;
      this.#tooLarge = true;
      return [];
    }
  }

  /** True when the block decoded last was over the header list size limit. */
  get tooLarge(): boolean {
    return this.#tooLarge;
  }

  /** Drops a block in progress (the connection is closing). */
  clear(): void {
    this.#block = null;
  }
}
