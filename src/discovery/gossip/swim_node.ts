import type { Clock, Logger, Rng, Timer } from "../../core/mod.ts";
import type { MessageStream, Transport } from "../../net/transport.ts";
import { Awareness, loadFactor } from "./awareness.ts";
import { BroadcastQueue } from "./broadcast_queue.ts";
import { classifyUpdate, type MemberState, refutation } from "./member_state.ts";
import type { GossipCodec, GossipMessage, MemberInfo } from "./messages.ts";
import { ProbeOrder } from "./probe_order.ts";
import {
  minSuspicionTimeout,
  quorumTimeout,
  retransmitLimit,
  suspicionTimeout,
  verifyChance,
} from "./suspicion.ts";
import type { SwimConfig } from "./swim_config.ts";

/** A membership change as a node sees it (one JSON line each in `--events json` mode). */
export interface MembershipEvent {
  /** Unix milliseconds. */
  t: number;
  node: string;
  event: "join" | "suspect" | "dead" | "leave" | "alive";
  member: string;
}

/** What a node needs. */
export interface SwimNodeDeps {
  transport: Transport;
  clock: Clock;
  rng: Rng;
  codec: GossipCodec;
  config: SwimConfig;
  log?: Logger;
  /** CPU utilisation 0 … 1, read for the load factor when `config.adaptive`. */
  cpu?: () => number;
  onEvent?: (e: MembershipEvent) => void;
}

interface Member {
  info: MemberInfo;
  suspicion?: { confirmers: Set<string>; started: number; timer: Timer };
}

interface Probe {
  acked: boolean;
  nacks: number;
  /** For a relayed probe: the asker's address, and its sequence number. */
  relay?: { to: string; seq: number; nack: boolean };
  timer?: Timer;
}

const STREAM_TIMEOUT_MS = 5000;
/**
 * The confirmer a suspicion learned from a peer's full state is put down to when only
 * independent confirmations count: the peer may only have heard of it, so it counts for no one.
 */
const HEARSAY = "";

/**
 * One member of a SWIM cluster (with Lifeguard's refinements and skiff's, each switchable in
 * `SwimConfig`). I/O-free: the transport, clock and randomness are injected, so the same code
 * runs on UDP/TCP and, seeded, in the network simulator. Callback-driven (no `await` on the
 * protocol path), so a simulator can run thousands of nodes in one event loop.
 */
export class SwimNode {
  readonly #d: SwimNodeDeps;
  readonly #self: MemberInfo;
  readonly #members = new Map<string, Member>();
  readonly #order: ProbeOrder;
  readonly #queue: BroadcastQueue;
  readonly #awareness: Awareness | undefined;
  readonly #probes = new Map<number, Probe>();
  readonly #timers = new Set<Timer>();
  #seq = 0;
  #running = false;
  /** Packets dropped on arrival, by reason. */
  readonly dropped = new Map<string, number>();
  /** Packets and bytes sent, by the first message's type. */
  readonly sent = new Map<string, { packets: number; bytes: number }>();

  /** @param self this member's name, address, services; its incarnation starts here */
  constructor(self: Omit<MemberInfo, "state">, deps: SwimNodeDeps) {
    this.#d = deps;
    this.#self = { ...self, state: "alive" };
    this.#order = new ProbeOrder(deps.rng);
    this.#queue = new BroadcastQueue(() =>
      retransmitLimit(deps.config.retransmitMult, this.#liveCount())
    );
    this.#awareness = deps.config.awarenessMax > 0
      ? new Awareness(deps.config.awarenessMax)
      : undefined;
    deps.transport.onPacket((from, packet) => this.#onPacket(from, packet));
    deps.transport.onStream((from, stream) => void this.#onStream(from, stream));
  }

  /** This member's name. */
  get name(): string {
    return this.#self.name;
  }

  /** This member's current incarnation. */
  get incarnation(): number {
    return this.#self.incarnation;
  }

  /** Lifeguard's local health score (0 when disabled). */
  get health(): number {
    return this.#awareness?.score ?? 0;
  }

  /** Every other member known, with its state. */
  members(): MemberInfo[] {
    return [...this.#members.values()].map((m) => m.info);
  }

  /** The state this node holds for `name`, if any. */
  stateOf(name: string): MemberState | undefined {
    return this.#members.get(name)?.info.state;
  }

  /**
   * Starts probing and gossiping, and joins through `seeds` (transport addresses) by a
   * push-pull with each until one answers.
   *
   * @returns how many seeds answered
   */
  async start(seeds: readonly string[] = []): Promise<number> {
    this.#running = true;
    this.#every(() => this.#probeRound(), () => this.#scaled(this.#d.config.probeIntervalMs));
    if (this.#d.config.gossipIntervalMs > 0) {
      this.#every(() => this.#gossipRound(), () => this.#d.config.gossipIntervalMs);
    }
    if (this.#d.config.pushPullIntervalMs > 0) {
      this.#every(() => void this.#syncRandom(), () => this.#d.config.pushPullIntervalMs);
    }
    let joined = 0;
    for (const seed of seeds) {
      if (seed === this.#d.transport.address) continue;
      if (await this.#pushPull(seed)) joined++;
    }
    return joined;
  }

  /** Announces a graceful leave to a few members now, then stops. */
  leave(): void {
    if (!this.#running) return;
    this.#self.incarnation++;
    const msg = this.#d.codec.encode({
      type: "leave",
      name: this.#self.name,
      incarnation: this.#self.incarnation,
    });
    for (const to of this.#order.pick(Math.max(3, this.#d.config.gossipNodes), new Set())) {
      this.#sendParts(to, [msg], "leave");
    }
    this.stop();
  }

  /** Stops every timer; the transport stays the caller's to close. */
  stop(): void {
    this.#running = false;
    for (const t of this.#timers) t.cancel();
    this.#timers.clear();
    for (const p of this.#probes.values()) p.timer?.cancel();
    this.#probes.clear();
    for (const m of this.#members.values()) m.suspicion?.timer.cancel();
  }

  // --- failure detection -------------------------------------------------------------------

  #probeRound(): void {
    const target = this.#order.next();
    if (target === undefined) return;
    this.#probe(target, false);
  }

  /**
   * Probes `target`: a ping, then (after the probe timeout) indirect pings through k members,
   * and a suspicion when nothing acked by the end of the period. A `verify` probe (of a fresh
   * suspect) sends the ping and the indirect pings at once and decides after the probe timeout.
   */
  #probe(target: string, verify: boolean): void {
    const m = this.#members.get(target)!;
    const cfg = this.#d.config;
    const seq = ++this.#seq;
    const probe: Probe = { acked: false, nacks: 0 };
    this.#probes.set(seq, probe);
    const suspicion = cfg.buddy && m.info.state === "suspect" ? m.info.incarnation : undefined;
    this.#send(m.info.address, {
      type: "ping",
      seq,
      from: this.#self.name,
      target,
      suspicion,
    });
    const interval = this.#scaled(cfg.probeIntervalMs);
    const timeout = Math.min(this.#scaled(cfg.probeTimeoutMs), interval);
    let expectedNacks = 0;
    const indirect = () => {
      const helpers = this.#order.pick(cfg.indirectChecks, new Set([target]));
      expectedNacks = cfg.nacks ? helpers.length : 0;
      for (const h of helpers) {
        this.#send(this.#members.get(h)!.info.address, {
          type: "ping_req",
          seq,
          from: this.#self.name,
          target,
          targetAddress: m.info.address,
          nack: cfg.nacks,
        });
      }
    };
    const fail = () => {
      this.#probes.delete(seq);
      if (probe.acked) return;
      // Lifeguard: missing nacks point at our own trouble, so we slow down (not after a
      // verify probe: it decides before the nacks are due).
      if (!verify) this.#awareness?.apply(Math.max(1, expectedNacks - probe.nacks));
      this.#suspect(target);
    };
    if (verify) {
      indirect();
      probe.timer = this.#after(timeout, fail);
      return;
    }
    probe.timer = this.#after(timeout, () => {
      if (probe.acked) return;
      indirect();
      probe.timer = this.#after(interval - timeout, fail);
    });
  }

  #onAck(seq: number): void {
    const probe = this.#probes.get(seq);
    if (!probe || probe.acked) return;
    probe.acked = true;
    if (probe.relay) {
      this.#send(probe.relay.to, {
        type: "ack",
        seq: probe.relay.seq,
        from: this.#self.name,
      });
      probe.timer?.cancel();
      this.#probes.delete(seq);
      return;
    }
    this.#awareness?.apply(-1);
    probe.timer?.cancel();
    this.#probes.delete(seq);
  }

  #relayProbe(asker: string, msg: Extract<GossipMessage, { type: "ping_req" }>): void {
    const seq = ++this.#seq;
    const probe: Probe = {
      acked: false,
      nacks: 0,
      relay: { to: asker, seq: msg.seq, nack: msg.nack },
    };
    this.#probes.set(seq, probe);
    this.#send(msg.targetAddress, { type: "ping", seq, from: this.#self.name, target: msg.target });
    probe.timer = this.#after(this.#scaled(this.#d.config.probeTimeoutMs), () => {
      this.#probes.delete(seq);
      if (!probe.acked && msg.nack) {
        this.#send(asker, { type: "nack", seq: msg.seq, from: this.#self.name });
      }
    });
  }

  #suspect(name: string): void {
    const m = this.#members.get(name);
    if (!m) return;
    if (m.info.state === "suspect" && this.#d.config.independentConfirmations) {
      // Our own failed probe of a suspect: an independent confirmation.
      this.#update(
        { type: "suspect", name, incarnation: m.info.incarnation, from: this.#self.name },
        this.#self.name,
      );
      return;
    }
    if (m.info.state !== "alive") return;
    this.#update(
      { type: "suspect", name, incarnation: m.info.incarnation, from: this.#self.name },
      this.#self.name,
    );
  }

  #suspicionTimeout(confirmations: number): number {
    const cfg = this.#d.config;
    const n = this.#liveCount();
    const min = minSuspicionTimeout(cfg.suspicionMult, n, cfg.probeIntervalMs);
    const max = min * cfg.suspicionMaxMult;
    const expected = n - 2 < cfg.suspicionMult - 2 ? 0 : cfg.suspicionMult - 2;
    return suspicionTimeout(min, max, confirmations, expected);
  }

  /** Ms from the start of a suspicion confirmed by `confirmers` (hearsay not counted). */
  #suspicionDeadline(confirmerSet: ReadonlySet<string>): number {
    const cfg = this.#d.config;
    const confirmers = confirmerSet.size - (confirmerSet.has(HEARSAY) ? 1 : 0);
    return quorumTimeout(
      this.#suspicionTimeout(confirmers - 1),
      cfg.suspicionQuorumMs,
      confirmers,
      cfg.suspicionQuorum,
    );
  }

  #startSuspicion(m: Member, from: string): void {
    const started = this.#d.clock.monotonic();
    const confirmers = new Set<string>([from]);
    const timer = this.#after(this.#suspicionDeadline(confirmers), () => this.#suspicionExpired(m));
    m.suspicion = { confirmers, started, timer };
    // Someone else's suspicion: maybe check it ourselves, as an independent observer.
    const cfg = this.#d.config;
    if (cfg.suspicionVerifiers > 0 && from !== this.#self.name) {
      const chance = verifyChance(cfg.suspicionVerifiers, this.#liveCount());
      if (this.#d.rng() < chance) this.#probe(m.info.name, true);
    }
  }

  #confirmSuspicion(m: Member, from: string): boolean {
    const s = m.suspicion;
    if (!s || s.confirmers.has(from)) return false;
    s.confirmers.add(from);
    s.timer.cancel();
    this.#timers.delete(s.timer);
    const elapsed = this.#d.clock.monotonic() - s.started;
    const left = Math.max(0, this.#suspicionDeadline(s.confirmers) - elapsed);
    s.timer = this.#after(left, () => this.#suspicionExpired(m));
    return true;
  }

  #suspicionExpired(m: Member): void {
    if (m.info.state !== "suspect") return;
    this.#update(
      { type: "dead", name: m.info.name, incarnation: m.info.incarnation, from: this.#self.name },
      this.#self.name,
    );
  }

  // --- membership updates ------------------------------------------------------------------

  /** Applies an alive/suspect/dead/leave message; gossips it on when it changed anything. */
  #update(msg: GossipMessage, from: string): void {
    const name = msg.type === "alive" ? msg.member.name : (msg as { name: string }).name;
    const state: MemberState = msg.type === "alive"
      ? "alive"
      : msg.type === "suspect"
      ? "suspect"
      : msg.type === "dead"
      ? "dead"
      : msg.type === "leave"
      ? "left"
      : "alive";
    const incarnation = msg.type === "alive"
      ? msg.member.incarnation
      : (msg as { incarnation: number }).incarnation;
    if (name === this.#self.name) return this.#aboutSelf(state, incarnation);
    const m = this.#members.get(name);
    const outcome = classifyUpdate(m?.info, { state, incarnation });
    if (outcome === "stale" || outcome === "duplicate") return;
    if (outcome === "confirmation") {
      const confirmer = (msg as { from: string }).from;
      if (m && this.#confirmSuspicion(m, confirmer)) {
        // Each confirmer's message travels on its own key, so none displaces another.
        const key = this.#d.config.independentConfirmations ? `${name}\u0000${confirmer}` : name;
        this.#rebroadcast(key, msg);
      }
      return;
    }
    if (outcome === "new") {
      if (msg.type !== "alive") return; // no address to reach it by: wait for its alive
      const member: Member = { info: { ...msg.member, state } };
      this.#members.set(name, member);
      this.#order.add(name);
      this.#emit("join", name);
      this.#rebroadcast(name, msg);
      return;
    }
    // changed
    const before = m!.info.state;
    m!.info = msg.type === "alive"
      ? { ...msg.member, state: "alive" }
      : { ...m!.info, state, incarnation };
    m!.suspicion?.timer.cancel();
    m!.suspicion = undefined;
    if (state === "suspect") this.#startSuspicion(m!, (msg as { from: string }).from ?? from);
    if (state === "alive" || state === "suspect") this.#order.add(name);
    else this.#order.remove(name);
    const event = state === "alive"
      ? (before === "dead" || before === "left" ? "join" : "alive")
      : state === "left"
      ? "leave"
      : state;
    this.#emit(event as MembershipEvent["event"], name);
    this.#rebroadcast(name, msg);
  }

  #aboutSelf(state: MemberState, incarnation: number): void {
    const next = refutation(this.#self.incarnation, { state, incarnation });
    if (next === undefined) return;
    this.#self.incarnation = next;
    this.#awareness?.apply(1); // being suspected hints that we are the slow one
    this.#rebroadcast(this.#self.name, { type: "alive", member: { ...this.#self } });
  }

  #rebroadcast(key: string, msg: GossipMessage): void {
    this.#queue.enqueue(key, this.#d.codec.encode(msg));
  }

  // --- dissemination -----------------------------------------------------------------------

  #gossipRound(): void {
    if (this.#queue.size === 0) return;
    for (const to of this.#order.pick(this.#d.config.gossipNodes, new Set())) {
      const parts = this.#piggyback(0);
      if (parts.length === 0) return;
      this.#sendParts(this.#members.get(to)!.info.address, parts, "gossip");
    }
  }

  /** Queued updates that fit next to `used` bytes of a packet. */
  #piggyback(used: number): Uint8Array[] {
    const c = this.#d.codec;
    const budget = this.#d.transport.maxPacketBytes - c.packetOverhead - used;
    return this.#queue.take(budget, c.partOverhead);
  }

  #send(to: string, msg: GossipMessage): void {
    const c = this.#d.codec;
    const first = c.encode(msg);
    const parts = [first, ...this.#piggyback(first.length + c.partOverhead)];
    this.#sendParts(to, parts, msg.type);
  }

  #sendParts(to: string, parts: Uint8Array[], kind: string): void {
    const packet = this.#d.codec.pack(parts);
    const s = this.sent.get(kind) ?? { packets: 0, bytes: 0 };
    s.packets++;
    s.bytes += packet.length;
    this.sent.set(kind, s);
    this.#d.transport.send(to, packet);
  }

  #onPacket(from: string, packet: Uint8Array): void {
    if (!this.#running) return;
    const msgs = this.#d.codec.unpack(packet);
    if (!Array.isArray(msgs)) {
      this.dropped.set(msgs.drop, (this.dropped.get(msgs.drop) ?? 0) + 1);
      return;
    }
    for (const msg of msgs) this.#handle(from, msg);
  }

  #handle(from: string, msg: GossipMessage): void {
    switch (msg.type) {
      case "ping":
        if (msg.target !== this.#self.name) return; // meant for a previous owner of the address
        if (msg.suspicion !== undefined) this.#aboutSelf("suspect", msg.suspicion);
        this.#send(from, { type: "ack", seq: msg.seq, from: this.#self.name });
        return;
      case "ping_req":
        this.#relayProbe(from, msg);
        return;
      case "ack":
        this.#onAck(msg.seq);
        return;
      case "nack": {
        const probe = this.#probes.get(msg.seq);
        if (probe) probe.nacks++;
        return;
      }
      default:
        this.#update(msg, from);
    }
  }

  // --- push-pull state sync ----------------------------------------------------------------

  /**
   * One push-pull with a random live member, and one with a random member held dead (as
   * serf's reconnect does): after a partition heals, that is how the halves find each other.
   */
  async #syncRandom(): Promise<void> {
    const [to] = this.#order.pick(1, new Set());
    const dead = [...this.#members.values()].filter((m) => m.info.state === "dead");
    const lost = dead.length > 0 ? dead[Math.floor(this.#d.rng() * dead.length)] : undefined;
    await Promise.all([
      to ? this.#pushPull(this.#members.get(to)!.info.address) : undefined,
      lost ? this.#pushPull(lost.info.address) : undefined,
    ]);
  }

  /** Sends our full state to `address` and merges theirs; false when it failed. */
  async #pushPull(address: string): Promise<boolean> {
    let stream: MessageStream | undefined;
    try {
      stream = await this.#d.transport.connect(address, STREAM_TIMEOUT_MS);
      await stream.send(this.#d.codec.encodeState(this.#state()));
      const reply = await stream.receive(STREAM_TIMEOUT_MS);
      if (reply) this.#merge(reply, address);
      return reply !== null;
    } catch (err) {
      this.#d.log?.debug("push-pull failed", { address, err });
      return false;
    } finally {
      stream?.close();
    }
  }

  async #onStream(from: string, stream: MessageStream): Promise<void> {
    try {
      const theirs = await stream.receive(STREAM_TIMEOUT_MS);
      if (theirs === null) return;
      await stream.send(this.#d.codec.encodeState(this.#state()));
      this.#merge(theirs, from);
    } catch (err) {
      this.#d.log?.debug("push-pull from a peer failed", { err });
    } finally {
      stream.close();
    }
  }

  #state(): MemberInfo[] {
    return [{ ...this.#self }, ...this.members()];
  }

  #merge(bytes: Uint8Array, peer: string): void {
    const state = this.#d.codec.decodeState(bytes);
    if (!Array.isArray(state)) {
      this.dropped.set(state.drop, (this.dropped.get(state.drop) ?? 0) + 1);
      return;
    }
    for (const info of state) {
      // A peer's "dead" is only a suspicion here (as memberlist does): the member gets its
      // chance to refute, and two healed halves do not kill each other off.
      const msg: GossipMessage = info.state === "alive"
        ? { type: "alive", member: info }
        : info.state === "suspect" || info.state === "dead"
        ? {
          type: "suspect",
          name: info.name,
          incarnation: info.incarnation,
          from: this.#d.config.independentConfirmations ? HEARSAY : peer,
        }
        : { type: "leave", name: info.name, incarnation: info.incarnation };
      // Independent confirmations only: a suspicion we hold already is not confirmed by a
      // peer's full state (the peer may only have heard of it), but the peer's verdict on it
      // counts as the dead message we missed.
      if (
        this.#d.config.independentConfirmations && msg.type === "suspect" &&
        this.#members.get(info.name)?.info.state === "suspect"
      ) {
        if (info.state === "dead") {
          this.#update(
            { type: "dead", name: info.name, incarnation: info.incarnation, from: peer },
            peer,
          );
        }
        continue;
      }
      // A member first heard of as suspect or dead in a full state is learned as it is.
      if (
        !this.#members.has(info.name) && info.state !== "alive" && info.name !== this.#self.name
      ) {
        if (info.state === "suspect") {
          this.#update({ type: "alive", member: { ...info, state: "alive" } }, info.name);
        } else continue;
      }
      this.#update(msg, info.name);
    }
  }

  // --- helpers -----------------------------------------------------------------------------

  #emit(event: MembershipEvent["event"], member: string): void {
    this.#d.onEvent?.({ t: this.#d.clock.now(), node: this.#self.name, event, member });
  }

  #liveCount(): number {
    let n = 1;
    for (const m of this.#members.values()) {
      if (m.info.state === "alive" || m.info.state === "suspect") n++;
    }
    return n;
  }

  /** A probe timing stretched by local health and (when adaptive) the load factor. */
  #scaled(baseMs: number): number {
    const alpha = this.#d.config.adaptive && this.#d.cpu ? loadFactor(this.#d.cpu()) : 1;
    return this.#awareness ? this.#awareness.scale(baseMs, alpha) : baseMs / alpha;
  }

  #after(ms: number, fn: () => void): Timer {
    const timer = this.#d.clock.setTimer(() => {
      this.#timers.delete(timer);
      if (this.#running) fn();
    }, ms);
    this.#timers.add(timer);
    return timer;
  }

  /** Runs `fn` now and then every `period()` ms (re-read each time) while running. */
  #every(fn: () => void, period: () => number): void {
    const tick = () => {
      fn();
      this.#after(period(), tick);
    };
    this.#after(period() * this.#d.rng(), tick); // staggered start
  }
}
