/**
 * Deterministic records for ring tests: producer and consumer (possibly in different Workers)
 * derive the same type, version and payload from (seed, index, length).
 * @module
 */

/** The record number `i` of a stream seeded with `seed`. */
export function record(seed: number, i: number, length: number) {
  let x = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) | 1;
  const payload = new Uint8Array(length);
  for (let k = 0; k < length; k++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    payload[k] = x;
  }
  return { type: (x >>> 8) & 0xffff, version: i & 0xffff, payload };
}

/** Null when `got` is record `i`, else what differs. */
export function mismatch(
  seed: number,
  i: number,
  length: number,
  got: { type: number; version: number; payload: Uint8Array },
): string | null {
  const want = record(seed, i, length);
  if (got.type !== want.type || got.version !== want.version) {
    return `record ${i}: type/version ${got.type}/${got.version}, want ${want.type}/${want.version}`;
  }
  if (got.payload.length !== length) {
    return `record ${i}: ${got.payload.length} bytes, want ${length}`;
  }
  const k = got.payload.findIndex((b, j) => b !== want.payload[j]);
  return k < 0 ? null : `record ${i} (seed ${seed}): byte ${k} of ${length} differs`;
}
