import assert from "node:assert/strict";
import { seededRng } from "../../../src/core/mod.ts";
import { type Host, RoundRobinBalancer } from "../../../src/dataplane/balance/mod.ts";
import { balancerConformance, makeHosts } from "./conformance.ts";

balancerConformance("RoundRobinBalancer", (rng) => new RoundRobinBalancer({ rng }));

const fromStart = () => new RoundRobinBalancer({ rng: () => 0 });
const names = (hosts: Host[], picks: (Host | undefined)[]) =>
  picks.map((p) => "abcdefgh"[hosts.indexOf(p!)]).join(" ");

Deno.test("RoundRobinBalancer interleaves weights 5, 1, 1 as nginx: a a b a c a a", () => {
  const hosts = makeHosts([5, 1, 1]);
  const lb = fromStart();
  lb.update(hosts);
  const picks = Array.from({ length: 14 }, () => lb.pick());
  assert.equal(names(hosts, picks), "a a b a c a a a a b a c a a");
});

Deno.test("RoundRobinBalancer rotates equal weights in order", () => {
  const hosts = makeHosts([2, 2, 2]);
  const lb = fromStart();
  lb.update(hosts);
  assert.equal(names(hosts, Array.from({ length: 6 }, () => lb.pick())), "a b c a b c");
});

Deno.test("RoundRobinBalancer gives exact proportions over each cycle", () => {
  const weights = [3, 7, 1, 4];
  const hosts = makeHosts(weights);
  const lb = new RoundRobinBalancer({ rng: seededRng(3) });
  lb.update(hosts);
  for (let cycle = 0; cycle < 3; cycle++) {
    const counts = new Map<Host, number>();
    for (let i = 0; i < 15; i++) {
      const h = lb.pick()!;
      counts.set(h, (counts.get(h) ?? 0) + 1);
    }
    assert.deepEqual(hosts.map((h) => counts.get(h)), weights);
  }
});

Deno.test("RoundRobinBalancer steps nginx's algorithm per pick for huge cycles", () => {
  // 1 + 999_999 units is too long to precompute; the per-pick step must still be exact.
  const hosts = makeHosts([1, 999_999]);
  const lb = fromStart();
  lb.update(hosts);
  let light = 0;
  for (let i = 0; i < 1_000_000; i++) if (lb.pick() === hosts[0]) light++;
  assert.equal(light, 1);
});

Deno.test("RoundRobinBalancer handles fractional weights exactly", () => {
  const hosts = makeHosts([0.5, 1.5]);
  const lb = fromStart();
  lb.update(hosts);
  assert.equal(names(hosts, Array.from({ length: 8 }, () => lb.pick())), "b a b b b a b b");
});

Deno.test("RoundRobinBalancer gives an avoided host's turn to the next in the cycle", () => {
  const hosts = makeHosts([5, 1, 1]);
  const lb = fromStart();
  lb.update(hosts);
  const avoidA = new Set([hosts[0]]);
  // Cycle a a b a c a a: avoiding a, the first pick skips to b, the next to c.
  assert.equal(names(hosts, [lb.pick(undefined, avoidA), lb.pick(undefined, avoidA)]), "b c");
  assert.equal(names(hosts, [lb.pick(), lb.pick(), lb.pick()]), "a a a");
});

Deno.test("RoundRobinBalancer avoids hosts in the per-pick mode too", () => {
  const hosts = makeHosts([1, 999_999, 2]);
  const lb = fromStart();
  lb.update(hosts);
  const avoid = new Set([hosts[1]]);
  const seen = new Set(Array.from({ length: 10 }, () => lb.pick(undefined, avoid)));
  assert.deepEqual(seen, new Set([hosts[0], hosts[2]]));
});

Deno.test("RoundRobinBalancer starts a new cycle at a random position", () => {
  const hosts = makeHosts(Array(10).fill(1));
  const firsts = new Set<Host>();
  for (let seed = 0; seed < 20; seed++) {
    const lb = new RoundRobinBalancer({ rng: seededRng(seed) });
    lb.update(hosts);
    firsts.add(lb.pick()!);
  }
  assert.ok(firsts.size >= 5, `only ${firsts.size} distinct first hosts over 20 sidecars`);
});

Deno.test("RoundRobinBalancer keeps its position when an update changes nothing", () => {
  const hosts = makeHosts([1, 1, 1, 1]);
  const lb = fromStart();
  lb.update(hosts);
  lb.pick();
  lb.update([...hosts]);
  assert.equal(lb.pick(), hosts[1]);
});
