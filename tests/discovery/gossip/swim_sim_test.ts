// The membership protocol in the seeded network simulator: join and convergence, a crash
// detected by everyone, a stalled member's suspicion refuted, partition and heal, graceful
// leave. Deterministic: each scenario runs on a fixed seed.
import assert from "node:assert/strict";
import {
  type MembershipEvent,
  SKIFF_DEFAULTS,
  type SwimConfig,
  SwimNode,
} from "../../../src/discovery/gossip/mod.ts";
import { protobufCodec } from "../../../src/discovery/gossip/wire/mod.ts";
import { SimNetwork } from "../../../src/net/sim/mod.ts";

interface Cluster {
  net: SimNetwork;
  nodes: Map<string, SwimNode>;
  events: MembershipEvent[];
  /** Starts (or restarts) member `name`, joining through n0. */
  boot(name: string): Promise<SwimNode>;
}

async function cluster(
  n: number,
  seed: number,
  config: SwimConfig = SKIFF_DEFAULTS,
): Promise<Cluster> {
  const net = new SimNetwork({ seed, defaults: { latencyMs: 2, jitterMs: 1 } });
  const nodes = new Map<string, SwimNode>();
  const events: MembershipEvent[] = [];
  let nonces = 0;
  const boot = async (name: string) => {
    nodes.get(name)?.stop();
    const sim = nodes.has(name) ? net.restart(name) : net.node(name);
    const node = new SwimNode(
      { name, address: name, incarnation: 0, spiffeId: "", services: [] },
      {
        transport: sim.transport,
        clock: sim.clock,
        rng: sim.rng,
        // The real wire format, in plaintext. Nonces count up (unique, and the same in every
        // run with the seed, as the trace hash needs) and leave the node's rng alone.
        // jsonCodec is still there for traces a person reads.
        codec: protobufCodec({
          cluster: "sim",
          clock: sim.clock,
          maxPacketBytes: sim.transport.maxPacketBytes,
          randomBytes: (into) => new DataView(into.buffer, into.byteOffset).setUint32(8, ++nonces),
        }),
        config,
        onEvent: (e) => events.push(e),
      },
    );
    nodes.set(name, node);
    const joined = node.start(name === "n0" ? [] : ["n0"]);
    await net.runFor(50);
    await joined;
    return node;
  };
  for (let i = 0; i < n; i++) await boot(`n${i}`);
  return { net, nodes, events, boot };
}

/** Runs virtual time in steps until `cond` holds or `maxMs` passed; returns the time taken. */
async function until(c: Cluster, cond: () => boolean, maxMs: number): Promise<number> {
  const start = c.net.now;
  while (!cond()) {
    if (c.net.now - start > maxMs) throw new Error(`Not within ${maxMs} virtual ms`);
    await c.net.runFor(100);
  }
  return c.net.now - start;
}

function allSee(c: Cluster, subject: string, state: string, except: string[] = []): boolean {
  for (const [name, node] of c.nodes) {
    if (name === subject || except.includes(name)) continue;
    if (node.stateOf(subject) !== state) return false;
  }
  return true;
}

Deno.test("swim: 12 members join through one seed and every one sees all the others", async () => {
  const c = await cluster(12, 1);
  await until(c, () => [...c.nodes.values()].every((n) => n.members().length === 11), 20_000);
  for (const node of c.nodes.values()) {
    assert.ok(node.members().every((m) => m.state === "alive"), `${node.name} sees all alive`);
  }
  // Steady state: nothing is suspected for a minute of virtual time on a clean network.
  const before = c.events.length;
  await c.net.runFor(60_000);
  assert.equal(c.events.slice(before).filter((e) => e.event === "suspect").length, 0);
});

Deno.test("swim: a crashed member is suspected, then held dead by every live member", async () => {
  const c = await cluster(10, 2);
  await until(c, () => [...c.nodes.values()].every((n) => n.members().length === 9), 20_000);
  c.net.kill("n7");
  c.nodes.get("n7")!.stop();
  c.nodes.delete("n7");
  const took = await until(c, () => allSee(c, "n7", "dead"), 60_000);
  assert.ok(took > 0);
  assert.ok(c.events.some((e) => e.event === "suspect" && e.member === "n7"));
  // Nobody else was declared dead on the way.
  assert.deepEqual(
    [...new Set(c.events.filter((e) => e.event === "dead").map((e) => e.member))],
    ["n7"],
  );
});

Deno.test("swim: a member stalled for a moment refutes the suspicion and is never held dead", async () => {
  // Five members: each of the four others probes n4 within any 3 s with probability 3/4, so
  // the stall is noticed on almost every seed; the suspicion timeout (≥ 4 s from when it
  // starts) outlasts the stall, so n4 can refute in time.
  const c = await cluster(5, 3);
  await until(c, () => [...c.nodes.values()].every((n) => n.members().length === 4), 20_000);
  const inc = c.nodes.get("n4")!.incarnation;
  c.net.stall("n4", 3_000);
  await until(c, () => c.events.some((e) => e.event === "suspect" && e.member === "n4"), 30_000);
  await until(c, () => allSee(c, "n4", "alive"), 30_000);
  assert.ok(c.nodes.get("n4")!.incarnation > inc, "refuted with a higher incarnation");
  assert.ok(!c.events.some((e) => e.event === "dead" && e.member === "n4"));
});

Deno.test("swim: a partition is detected on both sides and healed by rejoining", async () => {
  const c = await cluster(8, 4);
  await until(c, () => [...c.nodes.values()].every((n) => n.members().length === 7), 20_000);
  const a = ["n0", "n1", "n2", "n3"];
  const b = ["n4", "n5", "n6", "n7"];
  c.net.partition([a, b]);
  await until(
    c,
    () => a.every((x) => b.every((y) => c.nodes.get(x)!.stateOf(y) === "dead")),
    120_000,
  );
  c.net.heal();
  // Push-pull (every 30 s) carries each side's view across; the "dead" refute themselves.
  await until(
    c,
    () => [...c.nodes.values()].every((n) => n.members().every((m) => m.state === "alive")),
    180_000,
  );
});

Deno.test("swim: a graceful leave is seen as left, not dead, and a restart rejoins", async () => {
  const c = await cluster(6, 5);
  await until(c, () => [...c.nodes.values()].every((n) => n.members().length === 5), 20_000);
  c.nodes.get("n3")!.leave();
  await until(c, () => allSee(c, "n3", "left", ["n3"]), 20_000);
  assert.ok(!c.events.some((e) => e.event === "dead" && e.member === "n3"));
  await c.boot("n3");
  await until(c, () => allSee(c, "n3", "alive"), 60_000);
});

Deno.test("swim: the same seed gives the same run", async () => {
  const run = async () => {
    const c = await cluster(8, 42);
    c.net.setDefaults({ latencyMs: 2, jitterMs: 3, loss: 0.05 });
    await c.net.runFor(30_000);
    return c.net.traceHash();
  };
  assert.equal(await run(), await run());
});
