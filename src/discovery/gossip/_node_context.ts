import type { Timer } from "../../core/mod.ts";
import { Awareness, loadFactor } from "./awareness.ts";
import type { MemberInfo } from "./messages.ts";
import { ProbeOrder } from "./probe_order.ts";
import type { SwimConfig } from "./swim_config.ts";
import type { MembershipEvent, SwimNodeDeps } from "./swim_node_deps.ts";

/** A suspicion in progress: who suspects the member, since when, and when it ends. */
export interface Suspicion {
  /** The member whose suspicion we heard first (`HEARSAY` when a peer's full state said so). */
  raisedBy: string;
  confirmers: Set<string>;
  started: number;
  timer: Timer;
}

/** What a node holds about another member. */
export interface Member {
  info: MemberInfo;
  suspicion?: Suspicion;
}

/**
 * The state a `SwimNode`'s parts share (failure detector, suspicions, membership updates,
 * dissemination, push-pull): its own record, the member table, the probe order, local health,
 * and the timers it owns, which all stop with the node.
 */
export class NodeContext {
  readonly deps: SwimNodeDeps;
  readonly self: MemberInfo;
  readonly members = new Map<string, Member>();
  readonly order: ProbeOrder;
  readonly awareness: Awareness | undefined;
  /** Packets (and push-pull states) dropped on arrival, by reason. */
  readonly dropped = new Map<string, number>();
  readonly #timers = new Set<Timer>();
  running = false;

  /** @param self this member; its incarnation starts here */
  constructor(self: Omit<MemberInfo, "state">, deps: SwimNodeDeps) {
    this.deps = deps;
    this.self = { ...self, state: "alive" };
    this.order = new ProbeOrder(deps.rng);
    this.awareness = deps.config.awarenessMax > 0
      ? new Awareness(deps.config.awarenessMax)
      : undefined;
  }

  get config(): SwimConfig {
    return this.deps.config;
  }

  /** Counts a dropped packet or state. */
  drop(reason: string): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
  }

  /** Reports a membership change to the caller's `onEvent`. */
  emit(event: MembershipEvent["event"], member: string): void {
    this.deps.onEvent?.({ t: this.deps.clock.now(), node: this.self.name, event, member });
  }

  /** Members held alive or suspect, this node included. */
  liveCount(): number {
    let n = 1;
    for (const m of this.members.values()) {
      if (m.info.state === "alive" || m.info.state === "suspect") n++;
    }
    return n;
  }

  /** A probe timing stretched by local health and (when adaptive) the load factor. */
  scaled(baseMs: number): number {
    const alpha = this.config.adaptive && this.deps.cpu ? loadFactor(this.deps.cpu()) : 1;
    return this.awareness ? this.awareness.scale(baseMs, alpha) : baseMs / alpha;
  }

  /** Runs `fn` after `ms`, unless the node stopped by then. */
  after(ms: number, fn: () => void): Timer {
    const timer = this.deps.clock.setTimer(() => {
      this.#timers.delete(timer);
      if (this.running) fn();
    }, ms);
    this.#timers.add(timer);
    return timer;
  }

  /** Cancels a timer made by `after`. */
  cancel(timer: Timer | undefined): void {
    if (!timer) return;
    timer.cancel();
    this.#timers.delete(timer);
  }

  /** Runs `fn` after a random part of `period()`, then every `period()` ms (re-read each time). */
  every(fn: () => void, period: () => number): void {
    const tick = () => {
      fn();
      this.after(period(), tick);
    };
    this.after(period() * this.deps.rng(), tick); // staggered start
  }

  /** Stops: no timer fires any more. */
  stop(): void {
    this.running = false;
    for (const t of this.#timers) t.cancel();
    this.#timers.clear();
  }
}
