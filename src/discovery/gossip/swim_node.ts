import { Dissemination, type SentCount } from "./_dissemination.ts";
import { FailureDetector } from "./_failure_detector.ts";
import { MembershipUpdates } from "./_membership_updates.ts";
import { NodeContext } from "./_node_context.ts";
import { PushPull } from "./_push_pull.ts";
import { SuspicionTracker } from "./_suspicion_tracker.ts";
import type { MemberState } from "./member_state.ts";
import type { GossipMessage, MemberInfo } from "./messages.ts";
import type { SwimNodeDeps } from "./swim_node_deps.ts";

export type { MembershipEvent, SwimNodeDeps } from "./swim_node_deps.ts";

/**
 * One member of a SWIM cluster (with Lifeguard's refinements and skiff's, each switchable in
 * `SwimConfig`). I/O-free: the transport, clock and randomness are injected, so the same code
 * runs on UDP/TCP and, seeded, in the network simulator. Callback-driven (no `await` on the
 * protocol path), so a simulator can run thousands of nodes in one event loop.
 *
 * The parts, each in its own module: the failure detector (probes), the suspicion tracker
 * (suspect → dead timers), membership updates (precedence, refutation, events),
 * dissemination (the piggyback queue and gossip rounds) and push-pull (full-state sync).
 *
 * @example
 * ```ts
 * const node = new SwimNode(
 *   { name: "a", address: "10.0.0.1:7946", incarnation: 0, spiffeId: "", services: [] },
 *   { transport, clock: systemClock, rng: mathRng, codec, config: SKIFF_DEFAULTS },
 * );
 * await node.start(["10.0.0.2:7946"]);
 * ```
 */
export class SwimNode {
  readonly #ctx: NodeContext;
  readonly #out: Dissemination;
  readonly #detector: FailureDetector;
  readonly #updates: MembershipUpdates;
  readonly #sync: PushPull;
  /** Packets dropped on arrival, by reason. */
  readonly dropped: Map<string, number>;
  /** Packets and bytes sent, by the first message's type. */
  readonly sent: Map<string, SentCount>;

  /** @param self this member's name, address, services; its incarnation starts here */
  constructor(self: Omit<MemberInfo, "state">, deps: SwimNodeDeps) {
    const ctx = this.#ctx = new NodeContext(self, deps);
    this.#out = new Dissemination(ctx);
    const suspicions = new SuspicionTracker(ctx, {
      expired: (m) => this.#updates.declareDead(m),
      verify: (name) => this.#detector.probe(name, true),
    });
    this.#updates = new MembershipUpdates(ctx, suspicions, this.#out);
    this.#detector = new FailureDetector(ctx, this.#out, {
      failed: (name) => this.#updates.suspect(name),
      suspected: (incarnation) => this.#updates.aboutSelf("suspect", incarnation),
    });
    this.#sync = new PushPull(ctx, this.#updates);
    this.dropped = ctx.dropped;
    this.sent = this.#out.sent;
    deps.transport.onPacket((from, packet) => this.#onPacket(from, packet));
    deps.transport.onStream((from, stream) => void this.#sync.answer(from, stream));
  }

  /** This member's name. */
  get name(): string {
    return this.#ctx.self.name;
  }

  /** This member's current incarnation. */
  get incarnation(): number {
    return this.#ctx.self.incarnation;
  }

  /** Lifeguard's local health score (0 when disabled). */
  get health(): number {
    return this.#ctx.awareness?.score ?? 0;
  }

  /** Every other member known, with its state. */
  members(): MemberInfo[] {
    return [...this.#ctx.members.values()].map((m) => m.info);
  }

  /** The state this node holds for `name`, if any. */
  stateOf(name: string): MemberState | undefined {
    return this.#ctx.members.get(name)?.info.state;
  }

  /**
   * Starts probing and gossiping, and joins through `seeds` (transport addresses) by a
   * push-pull with each until one answers.
   *
   * @returns how many seeds answered
   */
  async start(seeds: readonly string[] = []): Promise<number> {
    const ctx = this.#ctx;
    const cfg = ctx.config;
    ctx.running = true;
    ctx.every(() => this.#detector.probeRound(), () => ctx.scaled(cfg.probeIntervalMs));
    if (cfg.gossipIntervalMs > 0) {
      ctx.every(() => this.#out.gossipRound(), () => cfg.gossipIntervalMs);
    }
    if (cfg.pushPullIntervalMs > 0) {
      ctx.every(() => void this.#sync.syncRandom(), () => cfg.pushPullIntervalMs);
    }
    return await this.join(seeds);
  }

  /**
   * Joins (again) through `seeds` by a push-pull with each, e.g. after no seed answered at
   * start. Does nothing when stopped.
   *
   * @returns how many seeds answered
   */
  async join(seeds: readonly string[]): Promise<number> {
    const ctx = this.#ctx;
    let joined = 0;
    for (const seed of seeds) {
      if (!ctx.running) break;
      if (seed === ctx.deps.transport.address) continue;
      if (await this.#sync.exchange(seed)) joined++;
    }
    return joined;
  }

  /** Announces a graceful leave to a few members now, then stops. */
  leave(): void {
    const ctx = this.#ctx;
    if (!ctx.running) return;
    ctx.self.incarnation++;
    const msg = ctx.deps.codec.encode({
      type: "leave",
      name: ctx.self.name,
      incarnation: ctx.self.incarnation,
    });
    for (const to of ctx.order.pick(Math.max(3, ctx.config.gossipNodes), new Set())) {
      this.#out.sendParts(ctx.members.get(to)!.info.address, [msg], "leave");
    }
    this.stop();
  }

  /** Stops every timer; the transport stays the caller's to close. */
  stop(): void {
    this.#ctx.stop();
    this.#detector.stop();
  }

  #onPacket(from: string, packet: Uint8Array): void {
    if (!this.#ctx.running) return;
    const msgs = this.#ctx.deps.codec.unpack(packet);
    if (!Array.isArray(msgs)) return this.#ctx.drop(msgs.drop);
    for (const msg of msgs) this.#handle(from, msg);
  }

  #handle(from: string, msg: GossipMessage): void {
    switch (msg.type) {
      case "ping":
        return this.#detector.onPing(from, msg);
      case "ping_req":
        return this.#detector.relay(from, msg);
      case "ack":
        return this.#detector.onAck(msg.seq);
      case "nack":
        return this.#detector.onNack(msg.seq);
      default:
        this.#updates.update(msg, from);
    }
  }
}
