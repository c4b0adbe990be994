// The membership protocol in the seeded network simulator: join and convergence, a crash
// detected by everyone, partition and heal, graceful leave (stalled members: quorum_sim_test.ts).
// Deterministic: each scenario runs on a fixed seed.
import assert from "node:assert/strict";
import { allSee, cluster, until } from "./_cluster.ts";

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
  await until(c, () => allSee(c, "n7", "dead"), 60_000);
  assert.ok(c.events.some((e) => e.event === "suspect" && e.member === "n7"));
  // Nobody else was declared dead on the way.
  assert.deepEqual(
    [...new Set(c.events.filter((e) => e.event === "dead").map((e) => e.member))],
    ["n7"],
  );
});

Deno.test("swim: a partition is detected on both sides and healed by rejoining", async () => {
  const c = await cluster(8, 4);
  await until(c, () => [...c.nodes.values()].every((n) => n.members().length === 7), 20_000);
  const a = ["n0", "n1", "n2", "n3"];
  const b = ["n4", "n5", "n6", "n7"];
  c.net.partition([a, b]);
  await until(
    c,
    () =>
      a.every((x) => b.every((y) => c.nodes.get(x)!.stateOf(y) === "dead")) &&
      b.every((y) => a.every((x) => c.nodes.get(y)!.stateOf(x) === "dead")),
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
