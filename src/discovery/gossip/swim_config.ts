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
  /**
   * A probe fails as soon as every indirect helper has nacked, instead of at the end of the
   * probe period (needs `nacks`; helpers nack one probe timeout after they were asked, so this
   * decides at about twice the probe timeout).
   */
  failOnNacks: boolean;
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
  /**
   * A member that hears of a suspicion straight from the member that raised it verifies it
   * (on top of the `suspicionVerifiers` chosen at random), and a member whose own probe confirms
   * a suspicion tells the member that raised it straight away, so that one reaches its quorum
   * about one verify timeout after raising it instead of waiting for gossip to find verifiers.
   */
  firstHandVerify: boolean;
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
  failOnNacks: false,
  buddy: false,
  adaptive: false,
  independentConfirmations: false,
  suspicionVerifiers: 0,
  suspicionQuorum: 0,
  suspicionQuorumMs: 0,
  firstHandVerify: false,
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
 * skiff's defaults, tuned in the simulator for 1000 members at 5 % loss (see
 * bench/swim_results.md): probes every 700 ms with a 250 ms timeout, five indirect helpers (a
 * lossy link alone rarely fails a probe, so false suspicions and the gossip they cause almost
 * vanish), a probe failed as soon as every helper nacked, and quorum suspicion: the members
 * that hear of a suspicion from its raiser (and about six others) probe the suspect at once and
 * tell the raiser; once 3 distinct members failed to reach it, it is dead 1 s after the
 * suspicion started (a lone suspicion keeps Lifeguard's long timeout). The trade-off: a member
 * that stalls for longer than about 1–2 s cannot be told from a crashed one in time; it is
 * declared dead and rejoins when the stall ends. `SKIFF_CONSERVATIVE` waits 3 s instead.
 */
export const SKIFF_DEFAULTS: Readonly<SwimConfig> = Object.freeze({
  ...MEMBERLIST_DEFAULTS,
  probeIntervalMs: 700,
  probeTimeoutMs: 250,
  indirectChecks: 5,
  failOnNacks: true,
  buddy: true,
  adaptive: true,
  independentConfirmations: true,
  suspicionVerifiers: 6,
  firstHandVerify: true,
  suspicionQuorum: 3,
  suspicionQuorumMs: 1000,
});

/**
 * skiff's defaults with a long quorum timeout (3 s): a member that stalls for up to about 3 s
 * refutes its suspicion in time instead of being declared dead and rejoining, at the price of
 * declaring crashed members dead 2 s later.
 */
export const SKIFF_CONSERVATIVE: Readonly<SwimConfig> = Object.freeze({
  ...SKIFF_DEFAULTS,
  suspicionQuorumMs: 3000,
});
