// skiff's suspicion rules in the simulator: first-hand verification lets the member that
// raised a suspicion reach its quorum within one verify timeout; the quorum timeout is the
// trade-off between fast detection and sparing stalled members; a lossy network alone kills
// no one. Deterministic: each scenario runs on a fixed seed, and times are virtual.
import assert from "node:assert/strict";
import {
  type MembershipEvent,
  SKIFF_CONSERVATIVE,
  SKIFF_DEFAULTS,
  type SwimConfig,
} from "../../../src/discovery/gossip/mod.ts";
import { allSee, cluster, until } from "./_cluster.ts";

/** Virtual ms from the first suspicion of `member` to the same observer declaring it dead. */
function raiserVerdictMs(events: MembershipEvent[], member: string): number {
  const first = events.find((e) => e.event === "suspect" && e.member === member)!;
  const dead = events.find((e) =>
    e.event === "dead" && e.member === member && e.node === first.node
  );
  assert.ok(dead, `${first.node} declared ${member} dead`);
  return dead.t - first.t;
}

async function crashVerdict(config: SwimConfig): Promise<number> {
  const c = await cluster(20, 11, config);
  await until(c, () => [...c.nodes.values()].every((n) => n.members().length === 19), 30_000);
  c.net.kill("n7");
  c.nodes.get("n7")!.stop();
  c.nodes.delete("n7");
  await until(c, () => allSee(c, "n7", "dead"), 120_000);
  return raiserVerdictMs(c.events, "n7");
}

Deno.test("quorum: first-hand verifiers let the raiser declare a crashed member dead at the quorum timeout", async () => {
  // No random verifiers, and rare regular probes: only those that hear the suspicion from its
  // raiser check it (100 ms probe timeout), and tell the raiser, which has its quorum of 3
  // within the 300 ms quorum timeout.
  const rules: SwimConfig = {
    ...SKIFF_DEFAULTS,
    probeIntervalMs: 5000,
    probeTimeoutMs: 100,
    suspicionVerifiers: 0,
    suspicionQuorum: 3,
    suspicionQuorumMs: 300,
  };
  const fast = await crashVerdict({ ...rules, firstHandVerify: true });
  assert.ok(Math.abs(fast - 300) < 1, `dead ${fast} ms after the suspicion, not 300`);
  // Without them the raiser's suspicion stays alone and runs Lifeguard's long timeout.
  const alone = await crashVerdict({ ...rules, firstHandVerify: false });
  assert.ok(alone > 4000, `a lone suspicion lasted only ${alone} ms`);
});

Deno.test("quorum: skiff's default declares a member stalled for 3 s dead, and it rejoins", async () => {
  // The trade-off of a 1 s quorum timeout: a 3 s stall looks like a crash.
  const c = await cluster(5, 3, SKIFF_DEFAULTS);
  await until(c, () => [...c.nodes.values()].every((n) => n.members().length === 4), 20_000);
  const inc = c.nodes.get("n4")!.incarnation;
  c.net.stall("n4", 3_000);
  await until(c, () => c.events.some((e) => e.event === "dead" && e.member === "n4"), 30_000);
  // Once the stall is over, it hears of its death and comes back with a higher incarnation.
  await until(c, () => allSee(c, "n4", "alive"), 60_000);
  assert.ok(c.nodes.get("n4")!.incarnation > inc, "came back with a higher incarnation");
});

Deno.test("quorum: the conservative preset lets a member stalled for 3 s refute in time", async () => {
  const c = await cluster(5, 3, SKIFF_CONSERVATIVE);
  await until(c, () => [...c.nodes.values()].every((n) => n.members().length === 4), 20_000);
  c.net.stall("n4", 3_000);
  await until(c, () => c.events.some((e) => e.event === "suspect" && e.member === "n4"), 30_000);
  await until(c, () => allSee(c, "n4", "alive"), 30_000);
  assert.ok(!c.events.some((e) => e.event === "dead" && e.member === "n4"));
});

Deno.test("quorum: 10 minutes of 10 % loss raise suspicions but kill no one", async () => {
  const c = await cluster(30, 9, SKIFF_DEFAULTS);
  await until(c, () => [...c.nodes.values()].every((n) => n.members().length === 29), 30_000);
  c.net.setDefaults({ latencyMs: 2, jitterMs: 1, loss: 0.1 });
  const before = c.events.length;
  await c.net.runFor(600_000);
  const after = c.events.slice(before);
  assert.ok(after.some((e) => e.event === "suspect"), "the loss caused suspicions");
  assert.deepEqual(after.filter((e) => e.event === "dead"), []);
});
