import type { Clock } from "../../src/core/mod.ts";
import { type Rng, seededRng } from "../../src/core/rng.ts";
import {
  type GossipCodec,
  type MembershipEvent,
  type SwimConfig,
  SwimNode,
} from "../../src/discovery/gossip/mod.ts";
import { SimNetwork } from "../../src/net/sim/mod.ts";
import type { MessageStream, Transport } from "../../src/net/transport.ts";
import { LAN, type Scenario } from "./scenarios.ts";

/** One simulated run: a cluster of one preset under one scenario and seed. */
export interface RunSpec {
  n: number;
  seed: number;
  config: SwimConfig;
  /** Makes the codec of one member, given its clock. */
  codec: (clock: Clock) => GossipCodec;
  scenario: Scenario;
  /** Members crashed (killed) during the measured phase, one every `crashSpacingMs`. */
  crashes: number;
  crashSpacingMs: number;
  /** Fresh members that join during the measured phase (their alive is the update traced). */
  joins: number;
  /** Measured time after the last crash. */
  tailMs: number;
  /** Sees every membership event too (for reproducers), with the node's incarnation. */
  onEvent?: (e: MembershipEvent, virtualMs: number) => void;
}

/** Times after one crash, in virtual ms; undefined when it never happened in the run. */
export interface CrashSample {
  suspectFirst?: number;
  deadFirst?: number;
  deadAll?: number;
}

/** Times for one join to be seen by 50 %, 99 % and 100 % of the members live at the join. */
export interface JoinSample {
  p50?: number;
  p99?: number;
  p100?: number;
}

/** Whether the observer, the subject, both or neither were among the stalling nodes. */
export type Blame = "neither" | "observer" | "subject" | "both";

/** False accusations of live members: episodes (per subject) and views (per observer). */
export interface FalseCounts {
  /** A live member accused by some live observer; one episode per 30 s of accusations. */
  episodes: Record<Blame, number>;
  /** Every live observer's accusation of a live member. */
  views: Record<Blame, number>;
}

/** Packets and bytes sent. */
export interface Traffic {
  packets: number;
  bytes: number;
}

/** What one run measured. */
export interface RunResult {
  crashes: CrashSample[];
  joins: JoinSample[];
  falseDeaths: FalseCounts;
  falseSuspicions: FalseCounts;
  /** Live member time in the measured phase (denominator of the rates), in hours. */
  nodeHours: number;
  /** Sent in the measured phase, by the packet's first message type, per live node-second. */
  load: Map<string, Traffic>;
  /** Push-pull stream bytes (both directions) per live node-second. */
  pushPullBytes: number;
  /** Virtual ms from the first start until every member saw every other alive. */
  bootMs: number;
  /** False when the boot never converged within its limit (the run is still measured). */
  booted: boolean;
  /** Virtual ms after `bootMs` until the join gossip had drained (unmeasured). */
  drainMs: number;
  /** Virtual ms measured. */
  measuredMs: number;
  /** Simulator events run. */
  simEvents: number;
}

const SEEDS = 3;
const BOOT_LIMIT_MS = 180_000;
const EPISODE_GAP_MS = 30_000;
const LEAD_MS = 5_000;
const DRAIN_LIMIT_MS = 180_000;

function emptyFalse(): FalseCounts {
  const zero = () => ({ neither: 0, observer: 0, subject: 0, both: 0 });
  return { episodes: zero(), views: zero() };
}

/** Wraps a transport so the bytes its streams send are added to `acc.bytes`. */
function countStreams(t: Transport, acc: { bytes: number }): Transport {
  const wrap = (s: MessageStream): MessageStream => ({
    send: (m) => {
      acc.bytes += m.length;
      return s.send(m);
    },
    receive: (ms) => s.receive(ms),
    close: () => s.close(),
  });
  return {
    address: t.address,
    maxPacketBytes: t.maxPacketBytes,
    send: (to, p) => t.send(to, p),
    onPacket: (h) => t.onPacket(h),
    connect: (to, ms) => t.connect(to, ms).then(wrap),
    onStream: (h) => t.onStream((from, s) => h(from, wrap(s))),
    close: () => t.close(),
  };
}

/** The time at which `share` of `total` observers had seen it (sorted `times`). */
function reach(times: number[], total: number, share: number): number | undefined {
  const need = Math.max(1, Math.ceil(total * share - 1e-9));
  return times.length >= need ? times[need - 1] : undefined;
}

function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + rng() * (hi - lo);
}

/** Picks `k` distinct items of `pool` (shuffled copy, deterministic for `rng`). */
function pick<T>(rng: Rng, pool: readonly T[], k: number): T[] {
  const a = [...pool];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, k);
}

interface CrashTrack {
  at: number;
  sample: CrashSample;
  targets: Set<string>;
  holders: Set<string>;
}

interface JoinTrack {
  at: number;
  targets: Set<string>;
  seen: number[];
  seenBy: Set<string>;
}

/**
 * Boots a cluster of `spec.n` members on a clean LAN (unmeasured warm-up), then switches to
 * the scenario's conditions, crashes members one at a time, adds fresh members, and measures
 * everything from the members' event streams on virtual time. Deterministic for a spec.
 */
export async function runScenario(spec: RunSpec): Promise<RunResult> {
  const { n, scenario } = spec;
  const net = new SimNetwork({ seed: spec.seed, defaults: LAN });
  const rng = seededRng(spec.seed ^ 0x5eed5eed);
  const nodes = new Map<string, SwimNode>();
  const killed = new Set<string>();
  const streamBytes = { bytes: 0 };
  let measuring = false;
  let measureStart = 0;

  const crashes = new Map<string, CrashTrack>();
  const joins = new Map<string, JoinTrack>();
  const falseDeaths = emptyFalse();
  const falseSuspicions = emptyFalse();
  const lastFalse = { dead: new Map<string, number>(), suspect: new Map<string, number>() };
  let stallers = new Set<string>();

  const checkCrash = (c: CrashTrack) => {
    if (c.sample.deadAll === undefined && c.holders.size >= c.targets.size) {
      c.sample.deadAll = net.now - c.at;
    }
  };

  const onEvent = (e: MembershipEvent) => {
    spec.onEvent?.(e, net.now);
    if (!measuring) return;
    const t = net.now;
    if (e.event === "join") {
      const j = joins.get(e.member);
      if (j && j.targets.has(e.node) && !j.seenBy.has(e.node)) {
        j.seenBy.add(e.node);
        j.seen.push(t - j.at);
      }
      return;
    }
    if (e.event !== "suspect" && e.event !== "dead") return;
    const c = crashes.get(e.member);
    if (c) {
      if (e.event === "suspect") c.sample.suspectFirst ??= t - c.at;
      else {
        c.sample.deadFirst ??= t - c.at;
        if (c.targets.has(e.node)) c.holders.add(e.node);
        checkCrash(c);
      }
      return;
    }
    if (killed.has(e.member) || killed.has(e.node)) return;
    const blame: Blame = stallers.has(e.node)
      ? (stallers.has(e.member) ? "both" : "observer")
      : stallers.has(e.member)
      ? "subject"
      : "neither";
    const counts = e.event === "dead" ? falseDeaths : falseSuspicions;
    counts.views[blame]++;
    const last = lastFalse[e.event];
    const prev = last.get(e.member);
    if (prev === undefined || t - prev > EPISODE_GAP_MS) counts.episodes[blame]++;
    last.set(e.member, t);
  };

  const make = (name: string): SwimNode => {
    const sim = net.node(name);
    const node = new SwimNode(
      { name, address: name, incarnation: 0, spiffeId: "", services: [] },
      {
        transport: countStreams(sim.transport, streamBytes),
        clock: sim.clock,
        rng: sim.rng,
        codec: spec.codec(sim.clock),
        config: spec.config,
        onEvent,
      },
    );
    nodes.set(name, node);
    return node;
  };

  // --- boot: seeds first, then the rest in batches, each joining through a random seed ---
  const names = Array.from({ length: n }, (_, i) => `n${i}`);
  const seeds = names.slice(0, Math.min(SEEDS, n));
  void make(seeds[0]).start([]);
  for (const s of seeds.slice(1)) void make(s).start([seeds[0]]);
  await net.runFor(200);
  const batch = Math.max(10, Math.ceil(n / 10));
  for (let i = seeds.length; i < n; i += batch) {
    for (const name of names.slice(i, i + batch)) {
      void make(name).start([seeds[Math.floor(rng() * seeds.length)]]);
    }
    await net.runFor(1000);
  }
  const converged = () => {
    for (const node of nodes.values()) {
      const ms = node.members();
      if (ms.length !== n - 1 || ms.some((m) => m.state !== "alive")) return false;
    }
    return true;
  };
  let booted = converged();
  while (!booted && net.now < BOOT_LIMIT_MS) {
    await net.runFor(1000);
    booted = converged();
  }
  const bootMs = net.now;
  // Let the joins' gossip drain (every member queued every other's alive), so the measured
  // load is the steady state's: until under 0.5 gossip packets per node-second, or a limit.
  let drained = false;
  for (let waited = 0; !drained && waited < DRAIN_LIMIT_MS; waited += 2000) {
    const g0 = gossipPackets(nodes);
    await net.runFor(2000);
    drained = (gossipPackets(nodes) - g0) / n / 2 < 0.5;
  }
  const drainMs = net.now - bootMs;

  // --- measured phase ---------------------------------------------------------------------
  net.setDefaults(scenario.link);
  measuring = true;
  measureStart = net.now;
  const victimsAndStallers = pick(
    rng,
    names.slice(seeds.length),
    spec.crashes + Math.ceil(n * scenario.stallShare),
  );
  const victims = victimsAndStallers.slice(0, spec.crashes);
  stallers = new Set(victimsAndStallers.slice(spec.crashes));
  const crashEnd = LEAD_MS + spec.crashes * spec.crashSpacingMs;
  const end = crashEnd + spec.tailMs;
  const before = snapshot(nodes);
  const streamBefore = streamBytes.bytes;
  const liveSince = new Map<string, number>(names.map((x) => [x, 0]));
  const liveSeconds = { total: 0 };

  type Action = { at: number; run: () => void };
  const actions: Action[] = [];
  victims.forEach((victim, i) => {
    actions.push({
      at: LEAD_MS + i * spec.crashSpacingMs,
      run: () => {
        const live = [...nodes.keys()].filter((x) => !killed.has(x) && x !== victim);
        killed.add(victim);
        net.kill(victim);
        nodes.get(victim)!.stop();
        liveSeconds.total += (net.now - measureStart - liveSince.get(victim)!) / 1000;
        liveSince.delete(victim);
        for (const c of crashes.values()) {
          if (c.targets.delete(victim)) c.holders.delete(victim);
          checkCrash(c);
        }
        crashes.set(victim, {
          at: net.now,
          sample: {},
          targets: new Set(live),
          holders: new Set(),
        });
      },
    });
  });
  for (let j = 0; j < spec.joins; j++) {
    const name = `j${j}`;
    actions.push({
      at: LEAD_MS + ((j + 0.5) * crashEnd) / Math.max(1, spec.joins),
      run: () => {
        const live = [...nodes.keys()].filter((x) => !killed.has(x));
        joins.set(name, { at: net.now, targets: new Set(live), seen: [], seenBy: new Set() });
        liveSince.set(name, net.now - measureStart);
        void make(name).start([seeds[Math.floor(rng() * seeds.length)]]);
      },
    });
  }
  for (const s of stallers) {
    let t = uniform(rng, 0, 20_000);
    while (t < end) {
      const ms = uniform(rng, 2000, 6000);
      actions.push({ at: t, run: () => net.stall(s, ms) });
      t += ms + uniform(rng, 10_000, 40_000);
    }
  }
  actions.sort((a, b) => a.at - b.at);
  for (const a of actions) {
    await net.runUntil(measureStart + a.at);
    a.run();
  }
  await net.runUntil(measureStart + end);
  measuring = false;

  for (const since of liveSince.values()) liveSeconds.total += end / 1000 - since / 1000;
  const after = snapshot(nodes);
  const load = new Map<string, Traffic>();
  for (const [kind, t] of after) {
    const b = before.get(kind) ?? { packets: 0, bytes: 0 };
    load.set(kind, {
      packets: (t.packets - b.packets) / liveSeconds.total,
      bytes: (t.bytes - b.bytes) / liveSeconds.total,
    });
  }
  for (const node of nodes.values()) node.stop();

  return {
    crashes: [...crashes.values()].map((c) => c.sample),
    joins: [...joins.values()].map((j) => {
      const seen = j.seen.sort((a, b) => a - b);
      const total = [...j.targets].filter((x) => !killed.has(x)).length;
      return {
        p50: reach(seen, total, 0.5),
        p99: reach(seen, total, 0.99),
        p100: reach(seen, total, 1),
      };
    }),
    falseDeaths,
    falseSuspicions,
    nodeHours: liveSeconds.total / 3600,
    load,
    pushPullBytes: (streamBytes.bytes - streamBefore) / liveSeconds.total,
    bootMs,
    booted,
    drainMs,
    measuredMs: end,
    simEvents: net.stats.events,
  };
}

function gossipPackets(nodes: Map<string, SwimNode>): number {
  let sum = 0;
  for (const node of nodes.values()) sum += node.sent.get("gossip")?.packets ?? 0;
  return sum;
}

/** Packets and bytes sent so far by every node, summed by message type. */
function snapshot(nodes: Map<string, SwimNode>): Map<string, Traffic> {
  const out = new Map<string, Traffic>();
  for (const node of nodes.values()) {
    for (const [kind, s] of node.sent) {
      const t = out.get(kind) ?? { packets: 0, bytes: 0 };
      t.packets += s.packets;
      t.bytes += s.bytes;
      out.set(kind, t);
    }
  }
  return out;
}
