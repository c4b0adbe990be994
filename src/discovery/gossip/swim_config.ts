/** The knobs of the membership protocol; the presets below set them all. */
export interface SwimConfig {
  /** Base probe period. */
  probeIntervalMs: number;
  /** Base wait for a direct ack before asking others. */
  probeTimeoutMs: number;
  /** Members asked to probe indirectly (k). */
  indirectChecks: number;
  /** Suspicion timeout floor: mult × max(1, log10 n) × probe interval. */
  suspicionMult: number;
  /** Suspicion starts at this multiple of the floor and shrinks with confirmations (1: fixed). */
  suspicionMaxMult: number;
  /** Each update is piggybacked mult × ⌈log10(n + 1)⌉ times. */
  retransmitMult: number;
  /** Period of the dedicated gossip round (0: updates only ride on probes). */
  gossipIntervalMs: number;
  /** Members each gossip round sends to. */
  gossipNodes: number;
  /** Period of the full-state push-pull with one random member (0: only at join). */
  pushPullIntervalMs: number;
  /** Lifeguard local health ceiling (0: off — timings never stretch). */
  awarenessMax: number;
  /** Indirect probers answer nack when they got no ack (Lifeguard). */
  nacks: boolean;
  /** A probe to a suspect carries the suspicion so it can refute at once. */
  buddy: boolean;
  /** Scale probe timings by the load factor α = max(0.5, 1 − cpu/2). */
  adaptive: boolean;
}

/** hashicorp/memberlist's LAN defaults (with its Lifeguard extensions), for comparison. */
export const MEMBERLIST_DEFAULTS: Readonly<SwimConfig> = Object.freeze({
  probeIntervalMs: 1000,
  probeTimeoutMs: 500,
  indirectChecks: 3,
  suspicionMult: 4,
  suspicionMaxMult: 6,
  retransmitMult: 4,
  gossipIntervalMs: 200,
  gossipNodes: 3,
  pushPullIntervalMs: 30_000,
  awarenessMax: 8,
  nacks: true,
  buddy: false,
  adaptive: false,
});

/** SWIM as the paper describes it: no local health, fixed suspicion timeout, no nacks. */
export const BASIC_SWIM: Readonly<SwimConfig> = Object.freeze({
  ...MEMBERLIST_DEFAULTS,
  suspicionMaxMult: 1,
  awarenessMax: 0,
  nacks: false,
  buddy: false,
  adaptive: false,
});

/** skiff's defaults: memberlist's timings with buddy refutation and load-adaptive probing. */
export const SKIFF_DEFAULTS: Readonly<SwimConfig> = Object.freeze({
  ...MEMBERLIST_DEFAULTS,
  buddy: true,
  adaptive: true,
});
