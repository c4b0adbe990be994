import type { Dissemination } from "./_dissemination.ts";
import type { Member, NodeContext } from "./_node_context.ts";
import type { SuspicionTracker } from "./_suspicion_tracker.ts";
import { classifyUpdate, type MemberState, refutation } from "./member_state.ts";
import type { GossipMessage } from "./messages.ts";
import type { MembershipEvent } from "./swim_node_deps.ts";

/** An alive, suspect, dead or leave message: the updates the member table takes. */
export type UpdateMessage = Extract<
  GossipMessage,
  { type: "alive" | "suspect" | "dead" | "leave" }
>;

/**
 * Applies membership updates to the member table by SWIM's precedence (see `classifyUpdate`),
 * starts and ends suspicions, refutes claims about this node, reports each change as an event,
 * and gossips on whatever changed something.
 */
export class MembershipUpdates {
  readonly #ctx: NodeContext;
  readonly #suspicions: SuspicionTracker;
  readonly #out: Dissemination;

  constructor(ctx: NodeContext, suspicions: SuspicionTracker, out: Dissemination) {
    this.#ctx = ctx;
    this.#suspicions = suspicions;
    this.#out = out;
  }

  /** Our own probe of `name` failed: suspect it (or, when suspected already, confirm). */
  suspect(name: string): void {
    const ctx = this.#ctx;
    const m = ctx.members.get(name);
    if (!m) return;
    const msg: UpdateMessage = {
      type: "suspect",
      name,
      incarnation: m.info.incarnation,
      from: ctx.self.name,
    };
    if (m.info.state === "suspect" && ctx.config.independentConfirmations) {
      // Our own failed probe of a suspect: an independent confirmation, ...
      const raiser = ctx.config.firstHandVerify ? m.suspicion?.raisedBy : undefined;
      this.update(msg, ctx.self.name);
      // ... told straight to the member that raised the suspicion, which counts the quorum.
      const to = raiser === undefined ? undefined : ctx.members.get(raiser);
      if (to?.info.state === "alive") this.#out.send(to.info.address, msg);
      return;
    }
    if (m.info.state === "alive") this.update(msg, ctx.self.name);
  }

  /** The suspicion of `m` ran out: it is dead. */
  declareDead(m: Member): void {
    const { name, incarnation } = m.info;
    this.update(
      { type: "dead", name, incarnation, from: this.#ctx.self.name },
      this.#ctx.self.name,
    );
  }

  /** Applies an alive/suspect/dead/leave message; gossips it on when it changed anything. */
  update(msg: UpdateMessage, from: string): void {
    const ctx = this.#ctx;
    const name = msg.type === "alive" ? msg.member.name : msg.name;
    const state: MemberState = msg.type === "leave" ? "left" : msg.type;
    const incarnation = msg.type === "alive" ? msg.member.incarnation : msg.incarnation;
    if (name === ctx.self.name) return this.aboutSelf(state, incarnation);
    const m = ctx.members.get(name);
    const outcome = classifyUpdate(m?.info, { state, incarnation });
    if (outcome === "stale" || outcome === "duplicate") return;
    if (outcome === "confirmation") {
      if (msg.type !== "suspect") return; // only a suspicion confirms a suspicion
      if (m && this.#suspicions.confirm(m, msg.from)) {
        // Each confirmer's message travels on its own key, so none displaces another.
        const key = ctx.config.independentConfirmations ? `${name}\u0000${msg.from}` : name;
        this.#out.rebroadcast(key, msg);
      }
      return;
    }
    if (outcome === "new") {
      if (msg.type !== "alive") return; // no address to reach it by: wait for its alive
      ctx.members.set(name, { info: { ...msg.member, state } });
      ctx.order.add(name);
      ctx.emit("join", name);
      this.#out.rebroadcast(name, msg);
      return;
    }
    // changed
    const member = m!;
    const before = member.info.state;
    member.info = msg.type === "alive"
      ? { ...msg.member, state: "alive" }
      : { ...member.info, state, incarnation };
    this.#suspicions.clear(member);
    if (msg.type === "suspect") {
      // First hand: the packet came from the member that raised the suspicion.
      const firstHand = ctx.members.get(msg.from)?.info.address === from;
      this.#suspicions.start(member, msg.from, firstHand);
    }
    if (state === "alive" || state === "suspect") ctx.order.add(name);
    else ctx.order.remove(name);
    const event: MembershipEvent["event"] = state === "alive"
      ? (before === "dead" || before === "left" ? "join" : "alive")
      : state === "left"
      ? "leave"
      : state;
    ctx.emit(event, name);
    this.#out.rebroadcast(name, msg);
  }

  /** A claim about this node: refuted with a higher incarnation when it says anything but alive. */
  aboutSelf(state: MemberState, incarnation: number): void {
    const self = this.#ctx.self;
    const next = refutation(self.incarnation, { state, incarnation });
    if (next === undefined) return;
    self.incarnation = next;
    this.#ctx.awareness?.apply(1); // being suspected hints that we are the slow one
    this.#out.rebroadcast(self.name, { type: "alive", member: { ...self } });
  }
}
