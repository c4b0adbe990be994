/**
 * A header block that HPACK (RFC 7541) cannot decode, or a decoded header list over the
 * limit.
 *
 * When `tooLarge` is false the block is malformed and the decoder's dynamic table is no
 * longer in step with the peer's encoder: the caller must treat it as a connection error of
 * type COMPRESSION_ERROR (RFC 9113 §4.3). When `tooLarge` is true the block was decoded in
 * full, so the dynamic table is still in step and the connection can go on; only the
 * header list exceeded the decoder's `maxHeaderListSize`, and the caller answers the stream
 * with 431 (or resets it).
 *
 * @example
 * ```ts
 * try {
 *   fields = decoder.decode(block);
 * } catch (err) {
 *   if (err instanceof HpackError && err.tooLarge) return reply431(stream);
 *   throw err; // COMPRESSION_ERROR: close the connection
 * }
 * ```
 */
export class HpackError extends Error {
  override name = "HpackError";
  /** True when only the header list size limit was exceeded (the table is still valid). */
  readonly tooLarge: boolean;

  /**
   * @param message what is wrong, for logs
   * @param tooLarge true for a header list over `maxHeaderListSize`, false for a malformed
   *   block
   */
  constructor(message: string, tooLarge = false) {
    super(message);
    this.tooLarge = tooLarge;
  }
}
