import type { Rng } from "../../core/rng.ts";
import type { LinkConditions } from "./link_conditions.ts";
import type { SimClock } from "./sim_clock.ts";
import type { SimTransport } from "./sim_transport.ts";

/** Options of a `SimNetwork`. */
export interface SimNetworkOptions {
  /** Seed of every random choice; the same seed and the same node code give the same trace. */
  seed: number;
  /** Conditions of every link without its own (default: 1 ms latency, nothing else). */
  defaults?: LinkConditions;
  /** Largest packet (default 1400 bytes, a safe UDP payload on a 1500-byte MTU). */
  maxPacketBytes?: number;
  /** Largest stream message (default 8 MiB). */
  maxMessageBytes?: number;
  /** Unix ms that virtual time 0 stands for in `Clock.now()` (default 1_700_000_000_000). */
  startMs?: number;
  /** Keep every trace record for `trace()` (default false: only the hash is kept). */
  keepTrace?: boolean;
}

/** One simulated node: its transport, its clock, and a seeded generator of its own. */
export interface SimNode {
  readonly name: string;
  readonly transport: SimTransport;
  readonly clock: SimClock;
  /** Seeded from the network seed, the name and the restart count. */
  readonly rng: Rng;
}

/** Counters of a `SimNetwork` run. */
export interface SimStats {
  /** Events run (timers, deliveries, drops at delivery, deferrals). */
  events: number;
  packetsSent: number;
  packetsDelivered: number;
  /** Dropped by link loss. */
  packetsLost: number;
  /** Dropped by a partition. */
  packetsBlocked: number;
  /** Dropped because an end was killed, closed, unknown or had no handler. */
  packetsDead: number;
  packetsDuplicated: number;
  /** Events put off by a stall. */
  deferred: number;
}
