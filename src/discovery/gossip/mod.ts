/**
 * Gossip membership (SWIM with Lifeguard's refinements): the protocol's pure rules —
 * suspicion arithmetic, local health, update precedence, the piggyback queue.
 * @module
 */
export { Awareness, loadFactor } from "./awareness.ts";
export { BroadcastQueue } from "./broadcast_queue.ts";
export { jsonCodec } from "./json_codec.ts";
export {
  classifyUpdate,
  type MemberState,
  type MemberUpdate,
  refutation,
  type UpdateOutcome,
} from "./member_state.ts";
export { ProbeOrder } from "./probe_order.ts";
export { minSuspicionTimeout, retransmitLimit, suspicionTimeout } from "./suspicion.ts";
export type {
  DropReason,
  GossipCodec,
  GossipMessage,
  MemberInfo,
  ServiceInfo,
} from "./messages.ts";
export {
  BASIC_SWIM,
  MEMBERLIST_DEFAULTS,
  SKIFF_CONSERVATIVE,
  SKIFF_DEFAULTS,
  type SwimConfig,
} from "./swim_config.ts";
export { type MembershipEvent, SwimNode, type SwimNodeDeps } from "./swim_node.ts";
