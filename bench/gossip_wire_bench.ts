/**
 * Gossip packet encode + decode (src/discovery/gossip/wire/): per packet, plaintext and
 * AES-GCM, with and without deflate, for a probe-sized packet (one ping) and a full 1400-byte
 * packet of piggybacked gossip (alive updates with service metadata, as packMessages fills
 * it), and AES-GCM with a 192-bit key. Also the parts alone: protobuf only, the packing of a
 * broadcast queue, and the GossipCodec path of a SwimNode (protobufCodec against jsonCodec).
 *
 * ```
 * deno bench --allow-all bench/gossip_wire_bench.ts
 * ```
 * The printed sizes (first lines) show what compression saves on each packet.
 * @module
 */
import { createCipheriv, createDecipheriv, createSecretKey } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  CompoundSchema,
  type DecodeOptions,
  decodePacket,
  type EncodeOptions,
  encodePacket,
  Keyring,
  MemberState,
  type Message,
  MessageSchema,
  packMessages,
  protobufCodec,
  ReplayGuard,
  ServiceProtocol,
} from "../src/discovery/gossip/wire/mod.ts";
import { type GossipCodec, type GossipMessage, jsonCodec } from "../src/discovery/gossip/mod.ts";
import { systemClock } from "../src/core/mod.ts";

const keyring = Keyring.create([crypto.getRandomValues(new Uint8Array(32))]);
// Deno's node:crypto has no aes-192-gcm: 24-byte keys run GCM over aes-192-ctr with GHASH in
// TypeScript (src/discovery/gossip/wire/_aes_gcm.ts), so they get their own line.
const keyring192 = Keyring.create([crypto.getRandomValues(new Uint8Array(24))]);
const plain = { cluster: "prod-eu", clock: systemClock };
const sealed = { ...plain, keyring };

const ping = create(MessageSchema, {
  kind: {
    case: "ping",
    value: { seq: 12345, target: "node-0042", source: "node-0007", sourceAddress: "10.1.0.7:7946" },
  },
});

function alive(i: number): Message {
  return create(MessageSchema, {
    kind: {
      case: "alive",
      value: {
        member: {
          name: `node-${String(i).padStart(4, "0")}`,
          address: `10.1.${i >> 8}.${i & 255}:7946`,
          incarnation: i % 7,
          state: MemberState.ALIVE,
          spiffeId: `spiffe://prod.example.org/ns/shop/sa/svc-${i % 20}`,
          services: [{
            name: `svc-${i % 20}`,
            port: 8443,
            protocol: ServiceProtocol.HTTP2,
            labels: { version: `v1.${i % 3}`, zone: `eu-west-1${"abc"[i % 3]}` },
          }],
        },
      },
    },
  });
}

const queue = Array.from({ length: 64 }, (_, i) => alive(i));
const full = [ping, ...packMessages(queue, 1400 - 80).packets[0]];
const cases: [string, Message[]][] = [["1 ping", [ping]], [`${full.length} msgs`, full]];

for (const [label, messages] of cases) {
  const sizes = [];
  const variants: [string, EncodeOptions & DecodeOptions][] = [
    ["plain", plain],
    ["plain+deflate", { ...plain, compress: true }],
    ["aes-gcm", sealed],
    ["aes-gcm+deflate", { ...sealed, compress: true }],
    ["aes-192-gcm", { ...plain, keyring: keyring192 }],
  ];
  for (const [name, o] of variants) {
    const bytes = encodePacket(messages, o);
    sizes.push(`${name} ${bytes.length} B`);
    Deno.bench(`encode+decode ${name}`, { group: label, baseline: name === "plain" }, () => {
      const r = decodePacket(encodePacket(messages, o), o);
      if (!r.ok) throw new Error(r.reason);
    });
  }
  const withReplay = { ...sealed, replay: new ReplayGuard({ clock: systemClock }) };
  Deno.bench("encode+decode aes-gcm + replay guard", { group: label }, () => {
    const r = decodePacket(encodePacket(messages, withReplay), withReplay);
    if (!r.ok) throw new Error(r.reason);
  });
  Deno.bench("protobuf only (toBinary+fromBinary)", { group: label }, () => {
    const body = toBinary(CompoundSchema, create(CompoundSchema, { messages }));
    fromBinary(CompoundSchema, body);
  });
  console.log(`${label}: ${sizes.join(", ")}`);
}

// Why the wire layer uses node:crypto: AES-GCM seal + open of one body alone, WebCrypto
// (async, the wire layer's first version) against node:crypto (synchronous, today's).
{
  const raw = crypto.getRandomValues(new Uint8Array(32));
  const webKey = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, [
    "encrypt",
    "decrypt",
  ]);
  const nodeKey = createSecretKey(raw);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const aad = new Uint8Array(34);
  for (const size of [40, 1200]) {
    const body = crypto.getRandomValues(new Uint8Array(size));
    const group = `aes-256-gcm alone, ${size} B`;
    Deno.bench("WebCrypto encrypt+decrypt", { group, baseline: true }, async () => {
      const params = { name: "AES-GCM", iv, additionalData: aad };
      await crypto.subtle.decrypt(
        params,
        webKey,
        await crypto.subtle.encrypt(params, webKey, body),
      );
    });
    Deno.bench("node:crypto createCipheriv+createDecipheriv", { group }, () => {
      const c = createCipheriv("aes-256-gcm", nodeKey, iv);
      c.setAAD(aad);
      const sealed = [c.update(body), c.final()];
      const d = createDecipheriv("aes-256-gcm", nodeKey, iv);
      d.setAAD(aad);
      d.setAuthTag(c.getAuthTag());
      d.update(sealed[0]);
      d.final();
    });
  }
}

Deno.bench("packMessages 64 alive updates into 1400-byte packets", () => {
  packMessages(queue, 1400);
});

// The GossipCodec path a SwimNode takes: each message encoded once when queued, then packed
// with others into a packet, and unpacked on arrival — protobufCodec against jsonCodec.
const coreAlive = (i: number): GossipMessage => ({
  type: "alive",
  member: {
    name: `node-${String(i).padStart(4, "0")}`,
    address: `10.1.${i >> 8}.${i & 255}:7946`,
    incarnation: i % 7,
    state: "alive",
    spiffeId: `spiffe://prod.example.org/ns/shop/sa/svc-${i % 20}`,
    services: [{
      name: `svc-${i % 20}`,
      port: 8443,
      protocol: "http2",
      labels: { version: `v1.${i % 3}`, zone: `eu-west-1${"abc"[i % 3]}` },
    }],
  },
});
const corePing: GossipMessage = {
  type: "ping",
  seq: 12345,
  from: "node-0007",
  target: "node-0042",
};
const codecs: [string, GossipCodec][] = [
  ["jsonCodec", jsonCodec],
  ["protobufCodec plain", protobufCodec({ ...plain, maxPacketBytes: 1400 })],
  ["protobufCodec aes-gcm", protobufCodec({ ...sealed, maxPacketBytes: 1400 })],
];
for (const [name, codec] of codecs) {
  const parts = [codec.encode(corePing)];
  let left = 1400 - codec.packetOverhead - parts[0].length - codec.partOverhead;
  for (let i = 0;; i++) {
    const p = codec.encode(coreAlive(i));
    if (p.length + codec.partOverhead > left) break;
    parts.push(p);
    left -= p.length + codec.partOverhead;
  }
  console.log(`${name}: a 1400-byte budget holds 1 ping + ${parts.length - 1} alive`);
  Deno.bench(`${name}: pack+unpack 1 ping`, { group: "codec 1 ping" }, () => {
    const r = codec.unpack(codec.pack(parts.slice(0, 1)));
    if (!Array.isArray(r)) throw new Error(r.drop);
  });
  Deno.bench(`${name}: pack+unpack a full packet`, { group: "codec full" }, () => {
    const r = codec.unpack(codec.pack(parts));
    if (!Array.isArray(r)) throw new Error(r.drop);
  });
  Deno.bench(`${name}: encode one alive`, { group: "codec encode" }, () => {
    codec.encode(coreAlive(7));
  });
}
