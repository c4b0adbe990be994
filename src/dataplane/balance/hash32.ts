/** FNV-1a's 32-bit offset basis, the state before any byte is hashed. */
export const FNV1A32_OFFSET = 0x811c9dc5;

const FNV1A32_PRIME = 0x01000193;

/**
 * 32-bit FNV-1a over the UTF-8 bytes of `text` (lone surrogates count as U+FFFD, as
 * `TextEncoder` writes them), without allocating. Pass a previous result as `state` to
 * continue hashing: `fnv1a32(b, fnv1a32(a)) === fnv1a32(a + b)`.
 *
 * @returns the hash as an unsigned 32-bit integer
 * @example
 * ```ts
 * fnv1a32("foobar"); // 0xbf9cf968
 * ```
 */
export function fnv1a32(text: string, state: number = FNV1A32_OFFSET): number {
  let h = state | 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, FNV1A32_PRIME);
      continue;
    }
    if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), FNV1A32_PRIME);
      h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV1A32_PRIME);
      continue;
    }
    if (c >= 0xd800 && c < 0xe000) {
      const d = i + 1 < n ? text.charCodeAt(i + 1) : 0;
      if (c < 0xdc00 && d >= 0xdc00 && d < 0xe000) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        h = Math.imul(h ^ (0xf0 | (cp >> 18)), FNV1A32_PRIME);
        h = Math.imul(h ^ (0x80 | ((cp >> 12) & 0x3f)), FNV1A32_PRIME);
        h = Math.imul(h ^ (0x80 | ((cp >> 6) & 0x3f)), FNV1A32_PRIME);
        h = Math.imul(h ^ (0x80 | (cp & 0x3f)), FNV1A32_PRIME);
        continue;
      }
      c = 0xfffd; // a lone surrogate
    }
    h = Math.imul(h ^ (0xe0 | (c >> 12)), FNV1A32_PRIME);
    h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), FNV1A32_PRIME);
    h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV1A32_PRIME);
  }
  return h >>> 0;
}

/**
 * MurmurHash3's 32-bit finalizer: spreads every input bit over every output bit, which
 * FNV-1a alone does poorly for short keys that differ in their last bytes.
 *
 * @returns an unsigned 32-bit integer
 */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * skiff's fast string hash for consistent hashing: `fmix32(fnv1a32(text))`. Stable across
 * processes and versions (it places keys on hash rings shared by a fleet), so never change
 * it without a migration plan.
 *
 * @returns an unsigned 32-bit integer
 * @example
 * ```ts
 * hash32("user-42") === hash32("user-42"); // true, in every process
 * ```
 */
export function hash32(text: string): number {
  return fmix32(fnv1a32(text));
}
