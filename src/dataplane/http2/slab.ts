/**
 * Copies small byte ranges into slices of large shared chunks, so that keeping a received
 * frame payload costs a `subarray` instead of a fresh `Uint8Array` (an allocation costs
 * hundreds of nanoseconds in this runtime). A chunk is freed by the garbage collector once no
 * slice of it is referenced.
 */
export class Slab {
  readonly #size: number;
  #chunk: Uint8Array;
  #used = 0;

  /**
   * @param size bytes per chunk; copies larger than a quarter of it get their own array. A
   * retained slice keeps its whole chunk alive, so chunks are small: a peer that leaves a
   * byte unread on each stream pins at most one chunk per stream.
   */
  constructor(size = 16 * 1024) {
    this.#size = size;
    this.#chunk = new Uint8Array(size);
  }

  /** A private copy of `src[start, end)`. */
  copy(src: Uint8Array, start: number, end: number): Uint8Array {
    const n = end - start;
    if (n > this.#size / 4) return src.slice(start, end);
    if (this.#used + n > this.#size) {
      this.#chunk = new Uint8Array(this.#size);
      this.#used = 0;
    }
    const out = this.#chunk.subarray(this.#used, this.#used + n);
    out.set(src.subarray(start, end));
    this.#used += n;
    return out;
  }
}
