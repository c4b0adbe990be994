import type { GossipCodec, GossipMessage, MemberInfo } from "./messages.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function parseArray<T>(bytes: Uint8Array): T[] | { drop: string } {
  try {
    const v = JSON.parse(dec.decode(bytes));
    return Array.isArray(v) ? v as T[] : { drop: "garbage" };
  } catch {
    return { drop: "garbage" };
  }
}

/**
 * A readable JSON codec for the protocol core: for simulations and tests, where packets are
 * easier to inspect as text and no header, checksum or key is wanted. Nodes on a real network
 * use the protobuf wire format (`wire/`), which frames, checksums and can encrypt packets.
 */
export const jsonCodec: GossipCodec = {
  packetOverhead: 2,
  partOverhead: 1,
  encode: (m: GossipMessage) => enc.encode(JSON.stringify(m)),
  pack: (parts) => enc.encode("[" + parts.map((p) => dec.decode(p)).join(",") + "]"),
  unpack: (packet) => parseArray<GossipMessage>(packet),
  encodeState: (members: readonly MemberInfo[]) => enc.encode(JSON.stringify(members)),
  decodeState: (bytes) => parseArray<MemberInfo>(bytes),
};
