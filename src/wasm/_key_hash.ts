/**
 * A 64-bit hash of a key's bytes as two 32-bit halves (two independent multiplicative hashes
 * with a murmur3 finaliser each). The stats directory compares the key itself on a match, so
 * quality matters for speed only.
 * @module
 */

/** Returns `[hi, lo]`, each an unsigned 32-bit integer. */
export function keyHash64(bytes: Uint8Array): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c ^ bytes.length;
  for (let i = 0; i < bytes.length; i++) {
    a = Math.imul(a ^ bytes[i], 0x01000193);
    b = Math.imul(b ^ bytes[i], 0x5bd1e995);
    b ^= b >>> 15;
  }
  return [fmix32(b), fmix32(a)];
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
