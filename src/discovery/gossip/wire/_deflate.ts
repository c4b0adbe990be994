import { deflateRawSync, inflateRawSync } from "node:zlib";

/**
 * deflate-raw for packet bodies, through node:zlib's synchronous calls (the async
 * `CompressionStream` would put an await on the protocol path, which is callback-driven);
 * `deno bench -A bench/gossip_wire_bench.ts` measures the packet paths with and without it.
 * Private to wire/.
 * @module
 */

/** Compresses `body`; the caller keeps the result only when it is smaller. */
export function deflate(body: Uint8Array): Uint8Array {
  return deflateRawSync(body);
}

/**
 * Inflates `body`, refusing to produce more than `limit` bytes (a decompression bomb).
 *
 * @returns the bytes; "too_large" past `limit`; "corrupt" when the input is not deflate-raw
 */
export function inflate(body: Uint8Array, limit: number): Uint8Array | "too_large" | "corrupt" {
  try {
    return inflateRawSync(body, { maxOutputLength: limit });
  } catch (err) {
    if (err instanceof RangeError && (err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
      return "too_large";
    }
    // zlib's data errors (bad block, unexpected end): a bad packet, counted by the caller.
    return "corrupt";
  }
}
