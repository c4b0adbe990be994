/**
 * The rules by which a membership update changes what a node believes about a member — pure
 * functions, so the precedence SWIM depends on is stated once and tested as a table.
 * @module
 */

/** What a node believes about a member. `left` is a graceful leave, `dead` a failure. */
export type MemberState = "alive" | "suspect" | "dead" | "left";

/** A membership update as gossip carries it. */
export interface MemberUpdate {
  state: MemberState;
  /** The member's incarnation the update is about; only the member itself raises it. */
  incarnation: number;
}

/** How an update relates to what is known. */
export type UpdateOutcome =
  /** A member not known before. */
  | "new"
  /** Accepted: the member's state or incarnation changes. */
  | "changed"
  /** The same suspicion again, from another observer: counts towards confirmation. */
  | "confirmation"
  /** Nothing new (an echo of what is known). */
  | "duplicate"
  /** Older than what is known: ignored. */
  | "stale";

/**
 * Decides what `update` does to a member currently believed to be `known` (undefined when
 * the member is unknown). The precedence, as in SWIM and memberlist:
 *
 * - a higher incarnation always wins (a member refutes a suspicion, or rejoins after being
 *   declared dead or leaving, by raising its incarnation);
 * - at equal incarnation, `suspect` overrides `alive`, and `dead`/`left` override both;
 *   nothing overrides `dead`/`left` at equal incarnation;
 * - a lower incarnation is stale.
 *
 * An unknown member is only learned from `alive` (or `suspect`) updates: learning a member
 * through its death would resurrect the long departed from old gossip.
 */
export function classifyUpdate(
  known: MemberUpdate | undefined,
  update: MemberUpdate,
): UpdateOutcome {
  if (known === undefined) {
    return update.state === "alive" || update.state === "suspect" ? "new" : "stale";
  }
  if (update.incarnation < known.incarnation) return "stale";
  if (update.incarnation > known.incarnation) return "changed";
  // Equal incarnation: only a stronger state changes anything.
  if (update.state === known.state) {
    return update.state === "suspect" ? "confirmation" : "duplicate";
  }
  return rank(update.state) > rank(known.state) ? "changed" : "stale";
}

/**
 * What a running member does on hearing `update` about itself while its own incarnation is
 * `incarnation`: a `suspect`, `dead` or `left` claim at its current (or a later) incarnation
 * is refuted by announcing itself alive at a higher incarnation. (`left` too: a member that
 * restarted after leaving learns of its own departure from its peers' state and rejoins.)
 *
 * @returns the incarnation to announce as alive, or `undefined` when there is nothing to refute
 */
export function refutation(incarnation: number, update: MemberUpdate): number | undefined {
  if (update.state === "alive") return undefined;
  if (update.incarnation < incarnation) return undefined; // an old claim, already refuted
  return update.incarnation + 1;
}

function rank(state: MemberState): number {
  return state === "alive" ? 0 : state === "suspect" ? 1 : 2;
}
