/**
 * The packet framing around an encoded `Compound` body (private to wire/): shared by
 * `encodePacket`, which encodes the body from messages, and `protobufCodec`, which joins
 * messages encoded earlier.
 * @module
 */
import type { Clock } from "../../../core/mod.ts";
import { crc32 } from "../../../wasm/mod.ts";
import { deflate } from "./_deflate.ts";
import {
  CRC_BYTES,
  FLAG_COMPRESSED,
  FLAG_ENCRYPTED,
  HEADER_BYTES,
  MAGIC0,
  MAGIC1,
  MAX_SENT_AT,
  NONCE_BYTES,
  OFF_CLUSTER,
  OFF_FLAGS,
  OFF_KEY_ID,
  OFF_LENGTH,
  OFF_NONCE,
  OFF_SENT_AT,
  OFF_VERSION,
  TAG_BYTES,
  VERSION,
} from "./_format.ts";
import { clusterId } from "./cluster_id.ts";
import type { Keyring } from "./keyring.ts";
import { seal } from "./_aes_gcm.ts";

/** Options of `encodePacket` (and of the packets `protobufCodec` makes). */
export interface EncodeOptions {
  /** The cluster name; its {@linkcode clusterId} goes into the header. */
  cluster: string;
  /** The sender's clock: `now()` (Unix ms) is the packet's send time, for replay checks. */
  clock: Pick<Clock, "now">;
  /** When given, the body is encrypted with AES-GCM under the keyring's primary key. */
  keyring?: Keyring;
  /**
   * Deflate the body, kept only when that makes it smaller (default false);
   * `deno bench -A bench/gossip_wire_bench.ts` shows what it costs and when it pays.
   */
  compress?: boolean;
  /**
   * Fills its argument with random bytes, for the nonce (default `crypto.getRandomValues`).
   * Must be a cryptographic generator when encrypting: a repeated AES-GCM nonce under one key
   * breaks the encryption. A seeded one suits simulations without a key.
   */
  randomBytes?: (into: Uint8Array) => void;
}

const defaultRandom = (into: Uint8Array) => void crypto.getRandomValues(into);

/**
 * Frames an encoded `Compound` body into one packet: header, body (deflated and encrypted when
 * asked), CRC32. See `encodePacket`, which is this after encoding the `Compound`.
 *
 * @throws {RangeError} when the clock is not in 0 .. 2^48-1 ms
 */
export function framePacket(encoded: Uint8Array, options: EncodeOptions): Uint8Array<ArrayBuffer> {
  const { keyring } = options;
  let body = encoded;
  let flags = 0;
  if (options.compress && body.length > 0) {
    const packed = deflate(body);
    if (packed.length < body.length) {
      body = packed;
      flags |= FLAG_COMPRESSED;
    }
  }
  if (keyring) flags |= FLAG_ENCRYPTED;
  const sentAt = Math.floor(options.clock.now());
  if (!(sentAt >= 0 && sentAt <= MAX_SENT_AT)) {
    throw new RangeError(
      `The clock reads ${sentAt}, outside 0 .. 2^48-1 ms: pass a clock giving Unix milliseconds`,
    );
  }

  const bodyLen = body.length + (keyring ? TAG_BYTES : 0);
  const total = HEADER_BYTES + bodyLen + CRC_BYTES;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out[0] = MAGIC0;
  out[1] = MAGIC1;
  out[OFF_VERSION] = VERSION;
  out[OFF_FLAGS] = flags;
  view.setUint32(OFF_LENGTH, total);
  view.setUint32(OFF_CLUSTER, clusterId(options.cluster));
  view.setUint32(OFF_KEY_ID, keyring ? keyring.primary.id : 0);
  view.setUint16(OFF_SENT_AT, Math.floor(sentAt / 2 ** 32));
  view.setUint32(OFF_SENT_AT + 2, sentAt % 2 ** 32);
  const nonce = out.subarray(OFF_NONCE, OFF_NONCE + NONCE_BYTES);
  (options.randomBytes ?? defaultRandom)(nonce);

  if (keyring) {
    const aad = out.subarray(0, HEADER_BYTES);
    seal(keyring.primary.key, nonce, aad, body, out.subarray(HEADER_BYTES, total - CRC_BYTES));
  } else {
    out.set(body, HEADER_BYTES);
  }
  view.setUint32(total - CRC_BYTES, crc32(out.subarray(0, total - CRC_BYTES)));
  return out;
}
