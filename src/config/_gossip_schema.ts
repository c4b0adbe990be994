import { z } from "zod";
import { Address, BindAddress, Duration, Name } from "./_common_schema.ts";
import { SpiffeIdText } from "./_authz_schema.ts";

const GossipService = z.strictObject({
  name: Name.describe("The service name clusters discover it by (discovery.service)."),
  port: z.number().int().min(1).max(65535).describe("The port it serves on, at this member."),
  protocol: z.enum(["http", "http2", "grpc", "tcp"]).default("http"),
  labels: z.record(z.string(), z.string()).default({}).describe(
    "Labels its endpoints carry, such as version and zone.",
  ),
});

/** A cluster key: base64 of 16, 24 or 32 random bytes (AES-128/192/256-GCM). */
const ClusterKey = z.string().refine((s) => decodeKey(s) !== undefined, {
  error: () =>
    "expected a base64 AES key of 16, 24 or 32 bytes (the value is not repeated here)" +
    " — generate one with: openssl rand -base64 32",
}).transform((s) => decodeKey(s)!);

/** The bytes of a base64 key of a valid AES length, or undefined. */
function decodeKey(s: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s) || s.length % 4 !== 0) return undefined;
  const bytes = Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  return [16, 24, 32].includes(bytes.length) ? bytes : undefined;
}

export const Gossip = z.strictObject({
  name: Name.optional().describe(
    "This member's name, unique in the cluster (default: host name and gossip port).",
  ),
  bind: BindAddress.prefault("0.0.0.0:7946").describe(
    "UDP and TCP address of the gossip protocol (one port for both).",
  ),
  advertise: Address.optional().describe(
    "The address other members reach this one at (default: the bind address, or the first " +
      "non-loopback IPv4 address when bound to all interfaces).",
  ),
  cluster: z.string().min(1).max(64).default("skiff").describe(
    "Cluster name, carried in every packet: packets of another cluster are dropped.",
  ),
  seeds: z.array(Address).default([]).describe(
    "Members to join through (any one answering is enough); retried until one answers.",
  ),
  keys: z.array(ClusterKey).default([]).describe(
    "AES-GCM cluster keys, base64: the first encrypts, all decrypt (rotate by adding a key " +
      "everywhere, then moving it first, then removing the old one). Empty: plaintext.",
  ),
  accept_plaintext: z.boolean().default(false).describe(
    "With keys, still accept plaintext packets (only while switching a cluster to encryption).",
  ),
  preset: z.enum(["skiff", "skiff-conservative", "memberlist", "basic"]).default("skiff")
    .describe(
      "Protocol parameters: skiff's (a crash is dead everywhere in about 3 s at 1000 nodes; a " +
        "member stalled for over 1–2 s is declared dead and rejoins), skiff-conservative " +
        "(spares stalls up to about 3 s, detects in about 4.5 s), memberlist's LAN defaults, " +
        "or SWIM as the paper describes it.",
    ),
  probe_interval: Duration.optional().describe("Overrides the preset's probe period."),
  probe_timeout: Duration.optional().describe("Overrides the preset's direct-probe timeout."),
  gossip_interval: Duration.optional().describe("Overrides the preset's gossip period."),
  push_pull_interval: Duration.optional().describe(
    "Overrides the preset's full-state sync period.",
  ),
  max_packet_bytes: z.number().int().min(576).max(65507).default(1400).describe(
    "Largest UDP packet sent; keep it under the path MTU.",
  ),
  spiffe_id: SpiffeIdText.optional().describe(
    "This member's SPIFFE ID, announced to others (default: the identity SVID's ID).",
  ),
  services: z.array(GossipService).default([]).describe(
    "The services this member offers; clusters elsewhere discover them by name.",
  ),
});
