/**
 * The arithmetic of suspicion (SWIM with Lifeguard's refinements), as plain functions: how
 * long a member stays suspected before it is declared dead, and how that shrinks as
 * independent members confirm the suspicion.
 * @module
 */

/**
 * The shortest suspicion timeout for a cluster of `n` members: `mult × max(1, log10(n)) ×
 * probeIntervalMs`. Larger clusters need longer, because a refutation takes more gossip rounds
 * to reach the suspecting member (memberlist's formula, so the two can be compared).
 *
 * @param mult the suspicion multiplier (memberlist's default is 4)
 * @param n members in the cluster, this node included
 * @param probeIntervalMs the base probe interval
 */
export function minSuspicionTimeout(mult: number, n: number, probeIntervalMs: number): number {
  const scale = Math.max(1, Math.log10(Math.max(1, n)));
  return mult * scale * probeIntervalMs;
}

/**
 * The suspicion timeout after `confirmations` independent members reported the same
 * suspicion (Lifeguard): it starts at `maxMs` and falls logarithmically to `minMs` once
 * `expected` confirmations arrived, so a member many peers cannot reach is declared dead
 * sooner, while one peer's bad link alone cannot do it quickly.
 *
 * @param minMs the floor (see `minSuspicionTimeout`)
 * @param maxMs the start (Lifeguard: a few times `minMs`)
 * @param confirmations independent confirmations so far (the suspecting member's own does not count)
 * @param expected confirmations after which the floor is reached (0: always `minMs`)
 */
export function suspicionTimeout(
  minMs: number,
  maxMs: number,
  confirmations: number,
  expected: number,
): number {
  if (expected <= 0 || maxMs <= minMs) return minMs;
  const c = Math.min(Math.max(0, confirmations), expected);
  const fraction = Math.log(c + 1) / Math.log(expected + 1);
  return Math.max(minMs, Math.floor(maxMs - fraction * (maxMs - minMs)));
}

/**
 * The suspicion timeout (from its start) once `confirmers` distinct members suspect the same
 * member, the first one included: `quorumMs` when there are at least `quorum` of them and that
 * is sooner, otherwise `timeoutMs` (the Lifeguard timeout) unchanged.
 *
 * @param timeoutMs the timeout without a quorum (see `suspicionTimeout`)
 * @param quorumMs the timeout once the quorum is reached
 * @param confirmers distinct suspecting members, the first one included
 * @param quorum members needed (0: no quorum rule)
 */
export function quorumTimeout(
  timeoutMs: number,
  quorumMs: number,
  confirmers: number,
  quorum: number,
): number {
  if (quorum <= 0 || confirmers < quorum) return timeoutMs;
  return Math.min(timeoutMs, Math.max(0, quorumMs));
}

/**
 * The chance that a member hearing of a fresh suspicion probes the suspect itself, so that
 * about `expected` of the `n - 2` other members (neither the suspect nor the first suspecter)
 * do: `min(1, expected / (n - 2))`, 0 when `expected` is 0 or nobody else is left.
 *
 * @param expected verifiers wanted across the cluster
 * @param n members in the cluster, this node included
 */
export function verifyChance(expected: number, n: number): number {
  if (expected <= 0 || n <= 2) return 0;
  return Math.min(1, expected / (n - 2));
}

/**
 * How many times each gossip update is piggybacked before it is dropped: `mult × ⌈log10(n +
 * 1)⌉`, enough for an epidemic to reach every member with high probability.
 *
 * @param mult the retransmit multiplier (memberlist's default is 4)
 * @param n members in the cluster
 */
export function retransmitLimit(mult: number, n: number): number {
  return mult * Math.ceil(Math.log10(Math.max(0, n) + 1));
}
