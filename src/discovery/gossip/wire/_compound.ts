/**
 * The `Compound` body written from messages encoded one by one (private to wire/). In the
 * protobuf encoding a `repeated Message messages = 1` field is, per message, the tag byte
 * 0x0a (field 1, wire type 2: length-delimited), the message's length as a varint, then the
 * message's bytes; and `Compound` has no other field. So joining those records gives exactly
 * the bytes `toBinary(CompoundSchema, …)` gives for the same messages, without encoding them
 * again (tests/discovery/gossip/wire/gossip_codec_test.ts checks it).
 * @module
 */

/** The tag of `Compound.messages`: field 1, wire type 2. */
const MESSAGES_TAG = 0x0a;

/**
 * Bytes a varint of `n` takes.
 *
 * @param n a non-negative integer
 */
export function varintSize(n: number): number {
  let size = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 128)) size++;
  return size;
}

/**
 * Bytes one encoded message of `len` bytes takes in a `Compound`: tag, length, message.
 *
 * @param len the message's encoded length
 */
export function messageFieldSize(len: number): number {
  return 1 + varintSize(len) + len;
}

/**
 * The `Compound` body holding these encoded `Message`s, in order.
 *
 * @param parts each the protobuf encoding of one `Message`
 */
export function joinMessages(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += messageFieldSize(p.length);
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out[at++] = MESSAGES_TAG;
    for (let v = p.length;; v = Math.floor(v / 128)) {
      if (v < 0x80) {
        out[at++] = v;
        break;
      }
      out[at++] = (v & 0x7f) | 0x80;
    }
    out.set(p, at);
    at += p.length;
  }
  return out;
}
