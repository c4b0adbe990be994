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
  /**
   * Count only independent observers as confirmations (false: memberlist's rules). When on, a
   * failed probe of a member already suspected is gossiped as a confirmation from the prober;
   * each confirmer's message is queued on its own key, so confirmations do not displace one
   * another; and a peer's full state (push-pull) no longer confirms a suspicion held already
   * (the peer may only have heard of it), while the peer's `dead` for it is taken as the dead
   * message missed.
   */
  independentConfirmations: boolean;
  /**
   * Expected members that probe a suspect themselves (ping and indirect pings at once, decided
   * after the probe timeout) on first hearing of a suspicion (0: off).
   */
  suspicionVerifiers: number;
  /**
   * Distinct suspecting members (the first one included) after which the suspicion ends
   * `suspicionQuorumMs` after it started, however long the timeout was (0: off). A lone
   * suspicion keeps the long timeout, so one bad link cannot kill a member quickly.
   */
  suspicionQuorum: number;
  /** See `suspicionQuorum`. */
  suspicionQuorumMs: number;
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
  independentConfirmations: false,
  suspicionVerifiers: 0,
  suspicionQuorum: 0,
  suspicionQuorumMs: 0,
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

/**
 * skiff's defaults: memberlist's timings with buddy refutation, load-adaptive probing, and
 * quorum suspicion: about 6 members re-probe each fresh suspect, and once 3 distinct members
 * failed to reach it, it is dead 3 s after the suspicion started (a lone suspicion keeps
 * Lifeguard's long timeout). 3 s lets a member that stalls for up to about 3 s refute in time;
 * 0.5 s met the 3 s detection target in the benchmark (N = 1000, 5 % loss) but declared live
 * members dead, 0.77 times per node-hour.
 */
export const SKIFF_DEFAULTS: Readonly<SwimConfig> = Object.freeze({
  ...MEMBERLIST_DEFAULTS,
  buddy: true,
  adaptive: true,
  independentConfirmations: true,
  suspicionVerifiers: 6,
  suspicionQuorum: 3,
  suspicionQuorumMs: 3000,
});
