/**
 * The 32-bit id of a cluster name carried in every packet header (FNV-1a over the UTF-8
 * name), so that packets of another cluster sharing a network are dropped before decryption.
 * It is an identifier, not a secret: use a cluster key to keep strangers out.
 *
 * @param name the cluster name, e.g. "prod-eu"
 * @returns an unsigned 32-bit integer
 *
 * @example
 * ```ts
 * clusterId("prod-eu") === clusterId("prod-eu"); // true
 * ```
 */
export function clusterId(name: string): number {
  let h = 0x811c9dc5;
  for (const b of encoder.encode(name)) {
    h ^= b;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const encoder = new TextEncoder();
