/**
 * Thrown by `Ring.pop()` when a record fails its check: its CRC32 does not match its payload,
 * or its length cannot be right. The ring has already skipped the bad bytes, so the next
 * `pop()` goes on with the records after them.
 */
export class RingCorruptError extends Error {
  /** Bytes the ring skipped: the bad record, or everything buffered when its length was bad. */
  readonly dropped: number;
  /** Record type from the bad header (may itself be damaged). */
  readonly type: number;

  /**
   * Creates the error (`Ring.pop` does, after skipping the bad bytes).
   * @param message what failed
   * @param dropped bytes skipped
   * @param type record type read from the header
   */
  constructor(message: string, dropped: number, type: number) {
    super(message);
    this.name = "RingCorruptError";
    this.dropped = dropped;
    this.type = type;
  }
}
