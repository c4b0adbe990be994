import { type Rng, seededRng } from "../../core/rng.ts";
import type { MessageStream } from "../transport.ts";
import { type LinkConditions, type ResolvedConditions, sampleDelay } from "./link_conditions.ts";
import { LinkTable } from "./_link_table.ts";
import { nodeHandle } from "./_node_handle.ts";
import { Macrotask } from "./_macrotask.ts";
import { NodeState, type SimHost } from "./_sim_host.ts";
import { CALL, PACKET, SimEvent } from "./sim_event.ts";
import { EventQueue } from "./event_queue.ts";
import { simConnect } from "./_sim_connect.ts";
import { SimTrace, TK, type TraceRecord } from "./sim_trace.ts";
import type { SimNetworkOptions, SimNode, SimStats } from "./sim_options.ts";

/**
 * A seeded, deterministic network of simulated nodes on virtual time. One event queue (a
 * binary heap ordered by time, ties by scheduling order) holds every packet delivery,
 * timer and stream message; run it with `step()`, `runUntil()`/`runFor()` (async: lets
 * promise continuations resume at their event's virtual time), `runUntilSync()`/
 * `runForSync()` (for packet-and-timer code, fastest) or `drive()` (in the background).
 *
 * @example
 * ```ts
 * const net = new SimNetwork({ seed: 1, defaults: { latencyMs: 5, jitterMs: 2, loss: 0.01 } });
 * const a = net.node("a"), b = net.node("b");
 * b.transport.onPacket((from, p) => console.log(from, p.length));
 * a.transport.send("b", new Uint8Array(10));
 * net.runForSync(100);
 * ```
 */
export class SimNetwork implements SimHost {
  readonly startMs: number;
  readonly maxPacketBytes: number;
  readonly maxMessageBytes: number;
  readonly rng: Rng;
  /** Counters since the network was made. */
  readonly stats: SimStats = {
    events: 0,
    packetsSent: 0,
    packetsDelivered: 0,
    packetsLost: 0,
    packetsBlocked: 0,
    packetsDead: 0,
    packetsDuplicated: 0,
    deferred: 0,
  };
  readonly #seed: number;
  readonly #queue = new EventQueue();
  readonly #trace: SimTrace;
  readonly #nodes: NodeState[] = [];
  readonly #names: string[] = [];
  readonly #byName = new Map<string, NodeState>();
  readonly #handles: SimNode[] = [];
  readonly #links: LinkTable;
  #groups = new Map<string, number>();
  #now = 0;
  #seq = 0;
  #dirty = false;
  #wake: (() => void) | null = null;

  /** Makes an empty network. */
  constructor(opts: SimNetworkOptions) {
    this.#seed = opts.seed >>> 0;
    this.rng = seededRng(this.#seed);
    this.#links = new LinkTable(opts.defaults ?? {});
    this.maxPacketBytes = opts.maxPacketBytes ?? 1400;
    this.maxMessageBytes = opts.maxMessageBytes ?? 8 * 1024 * 1024;
    this.startMs = opts.startMs ?? 1_700_000_000_000;
    this.#trace = new SimTrace(opts.keepTrace ?? false);
  }

  /** Current virtual time in ms (0 at the start). */
  get now(): number {
    return this.#now;
  }

  /** Events in the queue, cancelled ones included. */
  get pending(): number {
    return this.#queue.size;
  }

  /** The node named `name`, made on first use. A killed node stays killed: see `restart`. */
  node(name: string): SimNode {
    const state = this.#byName.get(name);
    if (state) return this.#handles[state.index];
    const fresh = new NodeState(name, this.#nodes.length);
    fresh.group = this.#groups.get(name) ?? 0;
    this.#nodes.push(fresh);
    this.#names.push(name);
    this.#byName.set(name, fresh);
    this.#handles.push(nodeHandle(this, this.#seed, fresh));
    return this.#handles[fresh.index];
  }

  /**
   * Brings `name` back as a fresh node (new transport, clock and generator; no handlers)
   * under the same name, killing the old one first if it still runs. Old timers, packets
   * in flight to the old one and its streams are gone.
   */
  restart(name: string): SimNode {
    this.node(name);
    const state = this.#state(name);
    this.kill(name);
    state.gen++;
    state.alive = true;
    state.closed = false;
    state.stalledUntil = -Infinity;
    return this.#handles[state.index] = nodeHandle(this, this.#seed, state);
  }

  /**
   * Kills `name`: packets to and from it are dropped, its timers never fire, its streams
   * fail at both ends, and promises its own code awaits never settle (as in a dead
   * process). `restart(name)` brings it back.
   *
   * @throws {RangeError} for a node that was never made
   */
  kill(name: string): void {
    const state = this.#state(name);
    if (!state.alive) return;
    state.alive = false;
    state.onPacket = null;
    state.onStream = null;
    const err = new Error(`Node "${name}" was killed; reconnect once it is back`);
    for (const s of [...state.streams]) s.failBoth(err);
  }

  /**
   * Stalls `name` for `ms` of virtual time (a long GC pause, a frozen VM): its timers,
   * packets and stream messages wait — nothing is dropped — and all run, in order, when
   * the stall ends. Stalling a stalled node extends the stall to the later end.
   */
  stall(name: string, ms: number): void {
    const state = this.#state(name);
    state.stalledUntil = Math.max(state.stalledUntil, this.#now + ms);
  }

  /**
   * Splits the network: nodes in different groups cannot reach each other (packets are
   * dropped, connects time out, crossing streams fail). Nodes named in no group form one
   * more group together. Replaces any earlier partition.
   */
  partition(groups: readonly (readonly string[])[]): void {
    this.#groups = new Map();
    groups.forEach((g, i) => g.forEach((name) => this.#groups.set(name, i + 1)));
    for (const n of this.#nodes) n.group = this.#groups.get(n.name) ?? 0;
    for (const n of this.#nodes) {
      for (const s of [...n.streams]) {
        if (!this.reachable(n, s.peerNode)) {
          s.failBoth(new Error(`Node "${s.peerNode.name}" is unreachable (network partition)`));
        }
      }
    }
  }

  /** Ends any partition: every node can reach every other again. */
  heal(): void {
    this.#groups = new Map();
    for (const n of this.#nodes) n.group = 0;
  }

  /** Sets the conditions of every link that has none of its own. */
  setDefaults(conditions: LinkConditions): void {
    this.#links.setDefaults(conditions);
  }

  /**
   * Sets the conditions of the directed link `from → to` (both ways with `bothWays`),
   * filled in from the defaults as they are now; `null` returns the link to the defaults.
   */
  setLink(from: string, to: string, conditions: LinkConditions | null, bothWays = false): void {
    this.#links.setLink(from, to, conditions, bothWays);
  }

  /** A 16-hex-digit hash of the whole event trace so far. */
  traceHash(): string {
    return this.#trace.hash();
  }

  /** Every trace record (needs `keepTrace: true`). */
  trace(): TraceRecord[] {
    return this.#trace.records(this.#names);
  }

  /** Runs the next event; false when the queue is empty. */
  step(): boolean {
    for (;;) {
      const ev = this.#queue.pop();
      if (!ev) return false;
      if (ev.cancelled) continue;
      this.#dispatch(ev);
      return true;
    }
  }

  /**
   * Runs every event up to virtual time `t`, then sets the time to `t`. Before time moves
   * on it yields to the runtime once, so async code resumed by an event (a stream message,
   * a `sleep`) runs at that event's virtual time. Keep packet handlers synchronous.
   */
  async runUntil(t: number): Promise<void> {
    const tick = new Macrotask();
    try {
      for (;;) {
        const next = this.#queue.peek();
        if (this.#dirty && (!next || next.at > this.#now)) {
          this.#dirty = false;
          await tick.yield();
          continue;
        }
        if (!next || next.at > t) break;
        this.#queue.pop();
        if (!next.cancelled) this.#dispatch(next);
      }
    } finally {
      tick.close();
    }
    if (t > this.#now) this.#now = t;
  }

  /** `runUntil(now + ms)`. */
  runFor(ms: number): Promise<void> {
    return this.runUntil(this.#now + ms);
  }

  /**
   * Runs every event up to virtual time `t` without yielding: promise continuations run only
   * after it returns. For code driven by packets and timers alone; the fastest way to run.
   */
  runUntilSync(t: number): void {
    for (;;) {
      const next = this.#queue.peek();
      if (!next || next.at > t) break;
      this.#queue.pop();
      if (!next.cancelled) this.#dispatch(next);
    }
    this.#dirty = false;
    if (t > this.#now) this.#now = t;
  }

  /** `runUntilSync(now + ms)`. */
  runForSync(ms: number): void {
    this.runUntilSync(this.#now + ms);
  }

  /**
   * Runs events in the background, one per macrotask, jumping virtual time to the next event
   * whenever everything else is idle — for tests written against real time (the transport
   * conformance suite). `stop()` ends it and must be awaited before the test ends.
   */
  drive(): { stop(): Promise<void> } {
    let stopped = false;
    const loop = (async () => {
      const tick = new Macrotask();
      try {
        while (!stopped) {
          await tick.yield();
          if (!stopped && !this.step()) {
            await new Promise<void>((resolve) => this.#wake = resolve);
          }
        }
      } finally {
        tick.close();
      }
    })();
    return {
      stop: async () => {
        stopped = true;
        this.#wake?.();
        await loop;
      },
    };
  }

  // ---- SimHost ----

  /** @internal */
  callAt(node: NodeState, gen: number, at: number, fn: () => void): SimEvent {
    return this.#push(new SimEvent(at, this.#seq++, CALL, node.index, gen, -1, null, fn));
  }

  /** @internal */
  conditions(from: NodeState, to: NodeState): ResolvedConditions {
    return this.#links.conditions(from, to);
  }

  /** @internal */
  reachable(a: NodeState, b: NodeState): boolean {
    return a.group === b.group;
  }

  /** @internal */
  sendPacket(from: NodeState, to: string, packet: Uint8Array): void {
    const data = packet.slice();
    const dst = this.#byName.get(to);
    const peer = dst ? dst.index : -1;
    this.stats.packetsSent++;
    this.#trace.record(this.#now, TK.send, from.index, peer, data);
    if (!dst || !dst.alive) return this.#drop(TK.dead, from.index, peer);
    if (from.group !== dst.group) return this.#drop(TK.blocked, from.index, peer);
    const c = this.conditions(from, dst);
    const rng = this.rng;
    if (c.loss > 0 && rng() < c.loss) return this.#drop(TK.lost, from.index, peer);
    if (c.burst && this.#links.burst(from, dst).lose(c.burst, rng)) {
      return this.#drop(TK.lost, from.index, peer);
    }
    const at = this.#now + sampleDelay(c, rng);
    this.#push(new SimEvent(at, this.#seq++, PACKET, peer, dst.gen, from.index, data, null));
    if (c.duplicate > 0 && rng() < c.duplicate) {
      this.stats.packetsDuplicated++;
      this.#trace.record(this.#now, TK.duplicate, from.index, peer, null);
      const again = this.#now + sampleDelay(c, rng);
      this.#push(
        new SimEvent(again, this.#seq++, PACKET, peer, dst.gen, from.index, data.slice(), null),
      );
    }
  }

  /** @internal */
  connect(from: NodeState, gen: number, to: string, timeoutMs: number): Promise<MessageStream> {
    const dst = this.#byName.get(to);
    return simConnect(this, from, gen, to, dst, timeoutMs, (n) => this.#handles[n.index].clock);
  }

  // ---- internals ----

  #dispatch(ev: SimEvent): void {
    this.stats.events++;
    if (ev.at > this.#now) this.#now = ev.at;
    const node = this.#nodes[ev.node];
    if (node.gen !== ev.gen || !node.alive) {
      if (ev.kind === PACKET) this.#drop(TK.dead, ev.from, ev.node);
      return;
    }
    if (node.stalledUntil > this.#now) {
      this.stats.deferred++;
      this.#trace.record(this.#now, TK.defer, ev.node, ev.from, null);
      ev.at = node.stalledUntil;
      ev.seq = this.#seq++;
      this.#queue.push(ev);
      return;
    }
    this.#dirty = true;
    if (ev.kind === CALL) {
      this.#trace.record(this.#now, TK.call, ev.node, -1, null);
      ev.fn!();
      return;
    }
    const handler = node.onPacket;
    if (!handler || node.closed) return this.#drop(TK.dead, ev.from, ev.node);
    const from = this.#nodes[ev.from];
    if (from.group !== node.group) return this.#drop(TK.blocked, ev.from, ev.node);
    this.stats.packetsDelivered++;
    this.#trace.record(this.#now, TK.deliver, ev.node, ev.from, null);
    handler(from.name, ev.data!);
  }

  #drop(kind: number, from: number, to: number): void {
    if (kind === TK.lost) this.stats.packetsLost++;
    else if (kind === TK.blocked) this.stats.packetsBlocked++;
    else this.stats.packetsDead++;
    this.#trace.record(this.#now, kind, to, from, null);
  }

  #push(ev: SimEvent): SimEvent {
    this.#queue.push(ev);
    const wake = this.#wake;
    if (wake) {
      this.#wake = null;
      wake();
    }
    return ev;
  }

  #state(name: string): NodeState {
    const s = this.#byName.get(name);
    if (!s) {
      throw new RangeError(`No simulated node is named "${name}"; create it with node("${name}")`);
    }
    return s;
  }
}
