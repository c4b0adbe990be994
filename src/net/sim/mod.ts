/**
 * A seeded, deterministic network simulator implementing `Transport` for many nodes in one
 * process on virtual time: per-link loss (independent and bursty), latency with jitter,
 * duplication, reordering, partitions, stalled and killed nodes, and an event trace whose
 * hash is the same for the same seed.
 * @module
 */
export { SimNetwork } from "./sim_network.ts";
export type { SimNetworkOptions, SimNode, SimStats } from "./sim_options.ts";
export { SimTransport } from "./sim_transport.ts";
export { SimClock } from "./sim_clock.ts";
export { SimStream } from "./sim_stream.ts";
export {
  type BurstLoss,
  IDEAL_LINK,
  type LinkConditions,
  resolveConditions,
  type ResolvedConditions,
  sampleDelay,
} from "./link_conditions.ts";
export { type TraceKind, type TraceRecord } from "./sim_trace.ts";
