import { fromBinary } from "@bufbuild/protobuf";
import { crc32 } from "../../../wasm/mod.ts";
import { CompoundSchema, type Message } from "../_gen/gossip_pb.ts";
import { open } from "./_aes_gcm.ts";
import { inflate } from "./_deflate.ts";
import {
  CRC_BYTES,
  FLAG_COMPRESSED,
  FLAG_ENCRYPTED,
  HEADER_BYTES,
  KNOWN_FLAGS,
  MAGIC0,
  MAGIC1,
  MIN_PACKET_BYTES,
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
import type { ReplayGuard } from "./replay_guard.ts";

/**
 * Why a packet was dropped. Each is worth its own counter:
 * - `too_large`: longer than `maxBytes`, or its body inflates past it;
 * - `garbage`: not a skiff gossip packet (no magic), an inconsistent header, unknown flags, or
 *   a body that is not a valid `Compound` (or not valid deflate);
 * - `truncated`: shorter than its header says (cut off in transit or by a small buffer);
 * - `unsupported_version`: a header version this node does not speak (upgrade it);
 * - `bad_crc`: corrupted in transit;
 * - `foreign_cluster`: from another cluster (its name hashes to another id);
 * - `not_encrypted`: plaintext, but this node requires encryption;
 * - `bad_key`: encrypted with a key this node does not hold, or forged/corrupted ciphertext;
 * - `stale`: sent further from now than the replay window (clock skew, or an old capture);
 * - `replayed`: a packet already accepted.
 */
export type DecodeFailure =
  | "too_large"
  | "garbage"
  | "truncated"
  | "unsupported_version"
  | "bad_crc"
  | "foreign_cluster"
  | "not_encrypted"
  | "bad_key"
  | "stale"
  | "replayed";

/** Every {@linkcode DecodeFailure}, e.g. to register one counter each. */
export const DECODE_FAILURES: readonly DecodeFailure[] = [
  "too_large",
  "garbage",
  "truncated",
  "unsupported_version",
  "bad_crc",
  "foreign_cluster",
  "not_encrypted",
  "bad_key",
  "stale",
  "replayed",
];

/** A packet decoded: its messages and what the header said. */
export interface DecodedPacket {
  ok: true;
  /** The messages of known kinds, in the order sent. */
  messages: Message[];
  /** Messages of a kind this version does not know (a newer sender), left out. */
  skipped: number;
  /** The sender's send time, Unix ms by its clock. */
  sentAt: number;
  /** Whether the packet was encrypted (and so authenticated). */
  encrypted: boolean;
}

/** A packet dropped, and why. */
export interface RejectedPacket {
  ok: false;
  reason: DecodeFailure;
}

/** What {@linkcode decodePacket} returns. */
export type DecodeResult = DecodedPacket | RejectedPacket;

/** Options of {@linkcode decodePacket}. */
export interface DecodeOptions {
  /** This node's cluster name: packets of any other are refused. */
  cluster: string;
  /** The keys accepted. Without one, encrypted packets are refused as `bad_key`. */
  keyring?: Keyring;
  /**
   * With a keyring, also accept plaintext packets (default false): only while a running
   * cluster is switched to encryption, node by node.
   */
  acceptPlaintext?: boolean;
  /** Refuses packets outside its window or seen before (checked after authentication). */
  replay?: ReplayGuard;
  /**
   * Largest packet, and largest inflated body, accepted (default 65 507, the largest UDP
   * payload); raise it for push-pull state over TCP.
   */
  maxBytes?: number;
}

/** The largest UDP payload over IPv4. */
const DEFAULT_MAX_BYTES = 65_507;

function reject(reason: DecodeFailure): RejectedPacket {
  return { ok: false, reason };
}

/**
 * Decodes one gossip packet made by {@linkcode encodePacket}. It never throws for bad input:
 * every check that fails returns `{ ok: false, reason }` for the caller to count, in this
 * order: size, magic, version, length, CRC32, cluster, flags, key and AES-GCM tag, replay
 * window, inflate, protobuf. A packet that passes is exactly what was sent (CRC32 against
 * corruption; AES-GCM against forgery when encrypted).
 *
 * @param bytes one datagram, or one frame from a stream (see `peekPacketLength`)
 * @param options cluster, keys, replay guard, size limit
 * @returns the messages, or the reason the packet was dropped
 *
 * @example
 * ```ts
 * const result = decodePacket(datagram, { cluster: "prod", keyring, replay });
 * if (!result.ok) dropped[result.reason]++;
 * else for (const m of result.messages) handle(m);
 * ```
 */
export function decodePacket(bytes: Uint8Array, options: DecodeOptions): DecodeResult {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (bytes.length > maxBytes) return reject("too_large");
  if (bytes.length < 2) {
    return reject(bytes.length === 0 || bytes[0] === MAGIC0 ? "truncated" : "garbage");
  }
  if (bytes[0] !== MAGIC0 || bytes[1] !== MAGIC1) return reject("garbage");
  if (bytes.length <= OFF_VERSION) return reject("truncated");
  if (bytes[OFF_VERSION] !== VERSION) return reject("unsupported_version");
  if (bytes.length < MIN_PACKET_BYTES) return reject("truncated");

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const total = view.getUint32(OFF_LENGTH);
  if (total > bytes.length) return reject("truncated");
  if (total < bytes.length || total < MIN_PACKET_BYTES) return reject("garbage");
  if (crc32(bytes.subarray(0, total - CRC_BYTES)) !== view.getUint32(total - CRC_BYTES)) {
    return reject("bad_crc");
  }
  if (view.getUint32(OFF_CLUSTER) !== clusterId(options.cluster)) {
    return reject("foreign_cluster");
  }
  const flags = bytes[OFF_FLAGS];
  if (flags & ~KNOWN_FLAGS) return reject("garbage");
  const encrypted = (flags & FLAG_ENCRYPTED) !== 0;
  const { keyring } = options;
  if (!encrypted && keyring && !options.acceptPlaintext) return reject("not_encrypted");

  const nonce = bytes.slice(OFF_NONCE, OFF_NONCE + NONCE_BYTES);
  let body = bytes.subarray(HEADER_BYTES, total - CRC_BYTES);
  if (encrypted) {
    const entry = keyring?.find(view.getUint32(OFF_KEY_ID));
    if (!entry || body.length < TAG_BYTES) return reject("bad_key");
    const opened = open(entry.key, nonce, bytes.subarray(0, HEADER_BYTES), body);
    // The tag does not verify: a forged or corrupted packet, or another key of the same id.
    if (!opened) return reject("bad_key");
    body = opened;
  } else if (view.getUint32(OFF_KEY_ID) !== 0) {
    return reject("garbage");
  }

  const sentAt = view.getUint16(OFF_SENT_AT) * 2 ** 32 + view.getUint32(OFF_SENT_AT + 2);
  if (options.replay) {
    const verdict = options.replay.check(sentAt, nonce);
    if (verdict !== "fresh") return reject(verdict);
  }

  if (flags & FLAG_COMPRESSED) {
    const inflated = inflate(body, maxBytes);
    if (typeof inflated === "string") return reject(inflated === "corrupt" ? "garbage" : inflated);
    body = inflated;
  }
  let messages: Message[];
  try {
    messages = fromBinary(CompoundSchema, body).messages;
  } catch {
    // Not a valid Compound: the sender's bug or a packet crafted to pass the CRC.
    return reject("garbage");
  }
  const known = messages.filter((m) => m.kind.case !== undefined);
  return {
    ok: true,
    messages: known,
    skipped: messages.length - known.length,
    sentAt,
    encrypted,
  };
}
