/**
 * The gossip packet header, version 1 (private to wire/): byte offsets, sizes and flags shared by the encoder and
 * the decoder. The diagram is in proto/README.md.
 *
 * ```
 *  0      2    3     4        8          12       16          22         34        end-4  end
 *  | magic | ver | flags | length | cluster id | key id | sent at ms | nonce  | body… | crc32 |
 *     2      1     1       4 BE     4 BE         4 BE     6 BE (48 bit) 12        n       4 BE
 * ```
 * @module
 */

/** "sk" — the first two bytes of every skiff gossip packet. */
export const MAGIC0 = 0x73;
/** Second magic byte. */
export const MAGIC1 = 0x6b;
/** The header version this code writes and reads. */
export const VERSION = 1;

/** Flag: the body is AES-GCM ciphertext followed by the 16-byte tag. */
export const FLAG_ENCRYPTED = 0x01;
/** Flag: the (plaintext) body is deflate-raw compressed. */
export const FLAG_COMPRESSED = 0x02;
/** Flags this version knows; a packet with any other bit set is rejected as garbage. */
export const KNOWN_FLAGS = FLAG_ENCRYPTED | FLAG_COMPRESSED;

/** Offsets of the header fields (all integers big-endian). */
export const OFF_VERSION = 2;
export const OFF_FLAGS = 3;
export const OFF_LENGTH = 4;
export const OFF_CLUSTER = 8;
export const OFF_KEY_ID = 12;
export const OFF_SENT_AT = 16;
export const OFF_NONCE = 22;
/** Bytes of the AES-GCM nonce (IV) and replay nonce. */
export const NONCE_BYTES = 12;
/** Bytes before the body; also the AES-GCM additional data. */
export const HEADER_BYTES = OFF_NONCE + NONCE_BYTES;
/** Bytes of the trailing CRC32. */
export const CRC_BYTES = 4;
/** Bytes of the AES-GCM authentication tag at the end of an encrypted body. */
export const TAG_BYTES = 16;
/** The shortest well-formed packet: header and CRC around an empty body. */
export const MIN_PACKET_BYTES = HEADER_BYTES + CRC_BYTES;
/** Largest timestamp the 48-bit field holds (year 10889). */
export const MAX_SENT_AT = 2 ** 48 - 1;

/**
 * Bytes a packet adds around its protobuf body: 38 in plaintext (34 header + 4 CRC32), 54
 * encrypted (plus the 16-byte AES-GCM tag).
 *
 * @param encrypted whether the packet is encrypted
 * @returns the overhead in bytes
 */
export function packetOverhead(encrypted: boolean): number {
  return MIN_PACKET_BYTES + (encrypted ? TAG_BYTES : 0);
}

/**
 * The total length a packet declares in its header, for framing packets on a byte stream
 * (push-pull over TCP): read 8 bytes, then the rest.
 *
 * @param head at least the first 8 bytes of a packet
 * @returns the declared length in bytes, or undefined when `head` is too short or does not
 *   start with the magic
 */
export function peekPacketLength(head: Uint8Array): number | undefined {
  if (head.length < OFF_LENGTH + 4 || head[0] !== MAGIC0 || head[1] !== MAGIC1) return undefined;
  return new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(OFF_LENGTH);
}
