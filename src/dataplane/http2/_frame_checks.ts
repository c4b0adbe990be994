// Checks of incoming frames that need no connection state (RFC 9113 §6): which stream a
// frame type may use, payload lengths, and padding. Each throws the H2ConnectionError that
// ends the connection; none allocates unless it throws.
import { ErrorCode, Flag, H2ConnectionError } from "./frame.ts";

/** Throws PROTOCOL_ERROR when a frame `type` that belongs to a stream came on stream 0. */
export function requireStream(id: number, type: string): void {
  if (id === 0) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, `${type} on stream 0`);
}

/** Throws PROTOCOL_ERROR when a frame `type` that belongs to the connection came on a stream. */
export function requireConnection(id: number, type: string): void {
  if (id !== 0) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, `${type} on a stream`);
}

/** Throws FRAME_SIZE_ERROR unless the payload `[s, e)` of a frame `type` is `n` octets. */
export function requireLength(s: number, e: number, n: number, type: string): void {
  if (e - s !== n) throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `bad ${type}`);
}

/**
 * Checks the padding of a DATA or HEADERS payload `b[s, e)`, and with `priority` the
 * priority fields of HEADERS (§6.1, §6.2).
 *
 * @returns where the content ends; it starts at {@link contentStart}
 * @throws {H2ConnectionError} FRAME_SIZE_ERROR for a payload too short for its fields,
 *   PROTOCOL_ERROR for padding longer than what is left
 */
export function contentEnd(
  flags: number,
  b: Uint8Array,
  s: number,
  e: number,
  priority: boolean,
): number {
  let pad = 0;
  if (flags & Flag.PADDED) {
    if (e - s < 1) {
      throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "padded frame too short");
    }
    pad = b[s++];
  }
  if (priority) {
    if (e - s < 5) throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "HEADERS too short");
    s += 5;
  }
  if (s + pad > e) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "padding too long");
  return e - pad;
}

/** Where the content of a DATA or HEADERS payload that begins at `s` starts. */
export function contentStart(flags: number, s: number, priority: boolean): number {
  return s + (flags & Flag.PADDED ? 1 : 0) + (priority ? 5 : 0);
}
