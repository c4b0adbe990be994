// Builds gossip packets by hand from the layout in proto/README.md — independently of
// encodePacket, with node:zlib's crc32 — so that tests can check the format itself and craft
// packets the encoder would never make.
import { crc32 } from "node:zlib";
import { clusterId } from "../../../../src/discovery/gossip/wire/mod.ts";

/** Header fields of a hand-made packet; each defaults to a valid plaintext packet. */
export interface FrameFields {
  magic?: [number, number];
  version?: number;
  flags?: number;
  cluster?: string;
  keyId?: number;
  sentAt?: number;
  nonce?: Uint8Array;
}

/** A packet around `body` (used as is: already compressed or encrypted if the flags say so). */
export function frame(body: Uint8Array, fields: FrameFields = {}): Uint8Array {
  const total = 34 + body.length + 4;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(fields.magic ?? [0x73, 0x6b], 0);
  out[2] = fields.version ?? 1;
  out[3] = fields.flags ?? 0;
  view.setUint32(4, total);
  view.setUint32(8, clusterId(fields.cluster ?? "test"));
  view.setUint32(12, fields.keyId ?? 0);
  const sentAt = fields.sentAt ?? 1_700_000_000_000;
  view.setUint16(16, Math.floor(sentAt / 2 ** 32));
  view.setUint32(18, sentAt % 2 ** 32);
  out.set(fields.nonce ?? new Uint8Array(12).fill(7), 22);
  out.set(body, 34);
  view.setUint32(total - 4, crc32(out.subarray(0, total - 4)));
  return out;
}

/** Rewrites the trailing CRC32 of `packet` in place to match its contents. */
export function fixCrc(packet: Uint8Array): Uint8Array {
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  view.setUint32(packet.length - 4, crc32(packet.subarray(0, packet.length - 4)));
  return packet;
}
