// The behaviour every `LoadBalancer` must show. Each policy's test file calls
// `balancerConformance` with a factory; policy-specific behaviour is tested beside it.
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Rng, seededRng } from "../../../src/core/mod.ts";
import { toEndpoint } from "../../../src/discovery/mod.ts";
import { Host, type LoadBalancer } from "../../../src/dataplane/balance/mod.ts";

/** Builds a fresh, empty balancer drawing from `rng`. */
export type BalancerFactory = (rng: Rng) => LoadBalancer;

/** Hosts `10.0.0.1:80`, `10.0.0.2:80`, ... with the given weights, created at time 0. */
export function makeHosts(weights: readonly number[], firstOctet = 10): Host[] {
  return weights.map((weight, i) =>
    new Host(
      toEndpoint({
        address: { hostname: `${firstOctet}.0.${i >> 8}.${(i & 255) + 1}`, port: 80 },
        weight,
      }),
      0,
    )
  );
}

/** How many times each host was picked in `picks` picks; `keyed` passes a distinct hash key. */
export function tally(
  lb: LoadBalancer,
  picks: number,
  keyed = false,
  avoid?: ReadonlySet<Host>,
): Map<Host, number> {
  const counts = new Map<Host, number>();
  for (let i = 0; i < picks; i++) {
    const host = lb.pick(keyed ? `key-${i}` : undefined, avoid);
    assert.ok(host, "pick returned no host");
    counts.set(host, (counts.get(host) ?? 0) + 1);
  }
  return counts;
}

/** Registers the balancer conformance tests for one policy. */
export function balancerConformance(name: string, factory: BalancerFactory): void {
  const test = (what: string, fn: () => void) => Deno.test(`${name} conformance: ${what}`, fn);
  const make = (hosts: readonly Host[], seed = 1) => {
    const lb = factory(seededRng(seed));
    lb.update(hosts);
    return lb;
  };

  test("picks nothing when it has no hosts", () => {
    const lb = factory(seededRng(1));
    assert.equal(lb.pick(), undefined);
    lb.update([]);
    assert.equal(lb.pick(), undefined);
    assert.equal(lb.pick("key", new Set(makeHosts([1]))), undefined);
    lb.update(makeHosts([1, 1]));
    lb.update([]);
    assert.equal(lb.pick("key"), undefined);
  });

  test("always picks a single host, even when it is avoided", () => {
    const [only] = makeHosts([7]);
    const lb = make([only]);
    for (let i = 0; i < 50; i++) {
      assert.equal(lb.pick(i % 2 ? `k${i}` : undefined), only);
      assert.equal(lb.pick(`k${i}`, new Set([only])), only);
    }
  });

  test("picks every host over many picks, with and without hash keys", () => {
    const hosts = makeHosts(Array(20).fill(1));
    for (const keyed of [false, true]) {
      const counts = tally(make(hosts), 2000, keyed);
      assert.equal(counts.size, 20, `only ${counts.size} of 20 hosts picked (keyed: ${keyed})`);
    }
  });

  test("picks only hosts of the last update", () => {
    const old = makeHosts([1, 2, 3], 10);
    const fresh = makeHosts([1, 5], 11);
    const lb = make(old);
    lb.update(fresh);
    const rng = seededRng(9);
    for (let i = 0; i < 2000; i++) {
      const avoid = new Set(old.filter(() => rng() < 0.5));
      if (rng() < 0.3) avoid.add(fresh[i % 2]);
      const host = lb.pick(rng() < 0.5 ? `k${i}` : undefined, avoid);
      assert.ok(host && fresh.includes(host), `picked ${host?.key}, not in the last update`);
    }
  });

  test("never picks a host removed by an update", () => {
    const hosts = makeHosts([1, 1, 1, 1, 1]);
    const lb = make(hosts);
    const removed = hosts[2];
    lb.update(hosts.filter((h) => h !== removed));
    for (const keyed of [false, true]) {
      assert.equal(tally(lb, 3000, keyed).get(removed), undefined);
    }
  });

  test("keeps its own copy of the host list", () => {
    const hosts = makeHosts([1, 1, 1]);
    const lb = make(hosts);
    const [first] = hosts;
    hosts.length = 1;
    hosts.push(...makeHosts([1], 12));
    const counts = tally(lb, 300);
    assert.equal(counts.size, 3);
    assert.ok(counts.has(first));
  });

  test("avoids the hosts a request already tried while another exists", () => {
    const hosts = makeHosts([1, 2, 3, 1_000_000, 1]);
    const lb = make(hosts);
    const rng = seededRng(4);
    for (let i = 0; i < 3000; i++) {
      const avoid = new Set(hosts.filter(() => rng() < 0.6));
      if (avoid.size === hosts.length) avoid.delete(hosts[i % hosts.length]);
      const host = lb.pick(rng() < 0.5 ? `k${i}` : undefined, avoid)!;
      assert.ok(hosts.includes(host));
      assert.ok(!avoid.has(host), `picked avoided ${host.key}`);
    }
    // The heaviest host avoided: the light ones still serve.
    const heavy = new Set([hosts[3]]);
    const counts = tally(lb, 500, false, heavy);
    assert.equal(counts.get(hosts[3]), undefined);
  });

  test("picks among all hosts when every host is avoided", () => {
    const hosts = makeHosts([1, 1, 1]);
    const lb = make(hosts);
    const stale = makeHosts([1], 13);
    const avoid = new Set([...hosts, ...stale]);
    const counts = tally(lb, 600, false, avoid);
    assert.equal(counts.size, 3);
    for (let i = 0; i < 100; i++) assert.ok(hosts.includes(lb.pick(`k${i}`, avoid)!));
  });

  test("honours weights 1:3", () => {
    for (const keyed of [false, true]) {
      const [light, heavy] = makeHosts([1, 3]);
      const counts = tally(make([light, heavy]), 20_000, keyed);
      const share = counts.get(heavy)! / 20_000;
      assert.ok(Math.abs(share - 0.75) < 0.04, `heavy share ${share} (keyed: ${keyed})`);
    }
  });

  test("honours weights 1:2:7 among ten hosts", () => {
    const hosts = makeHosts([1, 2, 7, 1, 2, 7, 1, 2, 7, 10]);
    const counts = tally(make(hosts), 40_000);
    const share = (w: number) =>
      hosts.filter((h) => h.weight === w).reduce((s, h) => s + (counts.get(h) ?? 0), 0) /
      40_000;
    assert.ok(Math.abs(share(7) - 21 / 40) < 0.03, `weight-7 share ${share(7)}`);
    assert.ok(Math.abs(share(1) - 3 / 40) < 0.015, `weight-1 share ${share(1)}`);
  });

  test("follows a weight change of the same Host objects after update", () => {
    const [a, b] = makeHosts([1, 1]);
    const lb = make([a, b]);
    b.setEndpoint(toEndpoint({ address: b.endpoint.address, weight: 3 }));
    lb.update([a, b]);
    const share = tally(lb, 20_000).get(b)! / 20_000;
    assert.ok(Math.abs(share - 0.75) < 0.04, `share ${share} after weight 1 -> 3`);
  });

  test("leaves hosts' counters alone across picks and updates", () => {
    const hosts = makeHosts([1, 2, 3]);
    hosts[1].begin();
    hosts[1].begin();
    hosts[1].end(5, 4, false);
    const before = JSON.stringify(hosts);
    const lb = make(hosts);
    tally(lb, 100, true);
    lb.update([...hosts, ...makeHosts([1], 14)]);
    tally(lb, 100);
    assert.equal(JSON.stringify(hosts), before);
  });

  test("rejects two hosts with the same key", () => {
    const [a] = makeHosts([1]);
    const [twin] = makeHosts([2]);
    const lb = factory(seededRng(1));
    assert.throws(() => lb.update([a, twin]), { name: "TypeError", message: /10\.0\.0\.1:80/ });
  });

  test("never throws and stays within the rules for weights from 1 to 1e6", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.tuple(fc.option(fc.string()), fc.nat()), { minLength: 1, maxLength: 20 }),
        fc.integer(),
        (weights, picks, seed) => {
          const hosts = makeHosts(weights);
          const lb = make(hosts, seed);
          for (const [key, mask] of picks) {
            const avoid = new Set(hosts.filter((_, i) => (mask >> i) & 1));
            const host = lb.pick(key ?? undefined, avoid);
            assert.ok(host && hosts.includes(host));
            if (avoid.size < hosts.length) assert.ok(!avoid.has(host));
          }
        },
      ),
      { seed: 20240601, numRuns: 150 },
    );
  });
}
