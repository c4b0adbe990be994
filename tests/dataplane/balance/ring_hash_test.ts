import assert from "node:assert/strict";
import { seededRng } from "../../../src/core/mod.ts";
import {
  hash32,
  type Host,
  RingHashBalancer,
  ringPointCounts,
} from "../../../src/dataplane/balance/mod.ts";
import { balancerConformance, makeHosts } from "./conformance.ts";

balancerConformance("RingHashBalancer", (rng) => new RingHashBalancer({ rng }));

const KEYS = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);

function ring(hosts: readonly Host[], seed = 1): RingHashBalancer {
  const lb = new RingHashBalancer({ rng: seededRng(seed) });
  lb.update(hosts);
  return lb;
}

/** Where each key goes, by host key. */
const assign = (lb: RingHashBalancer) => KEYS.map((k) => lb.pick(k)!.key);

Deno.test("RingHashBalancer sends a key to the same host every time", () => {
  const hosts = makeHosts(Array(10).fill(1));
  const lb = ring(hosts);
  const first = assign(lb);
  assert.deepEqual(assign(lb), first);
  assert.ok(new Set(first).size === 10);
});

Deno.test("RingHashBalancer agrees across sidecars whatever the host order or seed", () => {
  const hosts = makeHosts([1, 2, 3, 1, 1, 5]);
  const shuffled = [hosts[3], hosts[0], hosts[5], hosts[2], hosts[4], hosts[1]];
  assert.deepEqual(assign(ring(shuffled, 99)), assign(ring(hosts, 1)));
  // Fresh Host objects for the same endpoints, as another process would have.
  assert.deepEqual(assign(ring(makeHosts([1, 2, 3, 1, 1, 5]))), assign(ring(hosts)));
});

Deno.test("RingHashBalancer moves only the removed host's keys", () => {
  const hosts = makeHosts(Array(10).fill(1));
  const lb = ring(hosts);
  const before = assign(lb);
  const gone = hosts[6];
  lb.update(hosts.filter((h) => h !== gone));
  const after = assign(lb);
  let moved = 0;
  for (let i = 0; i < KEYS.length; i++) {
    if (before[i] === gone.key) moved++;
    else assert.equal(after[i], before[i], `${KEYS[i]} moved between remaining hosts`);
  }
  const share = moved / KEYS.length;
  assert.ok(share > 0.06 && share < 0.14, `${share} of keys moved, expected about 1/10`);
});

Deno.test("RingHashBalancer moves only keys to a new host when one is added", () => {
  const hosts = makeHosts(Array(12).fill(1));
  const lb = ring(hosts.slice(0, 11));
  const before = assign(lb);
  lb.update(hosts);
  const after = assign(lb);
  const newcomer = hosts[11].key;
  let moved = 0;
  for (let i = 0; i < KEYS.length; i++) {
    if (after[i] === before[i]) continue;
    assert.equal(after[i], newcomer);
    moved++;
  }
  const share = moved / KEYS.length;
  assert.ok(share > 0.05 && share < 0.12, `${share} of keys moved, expected about 1/12`);
});

Deno.test("RingHashBalancer spreads keys evenly over equal hosts", () => {
  for (const n of [3, 10, 50]) {
    const hosts = makeHosts(Array(n).fill(1));
    const counts = new Map<string, number>();
    for (const key of assign(ring(hosts))) counts.set(key, (counts.get(key) ?? 0) + 1);
    const even = KEYS.length / n;
    for (const [key, count] of counts) {
      assert.ok(Math.abs(count / even - 1) < 0.3, `${key} got ${count}, even is ${even} (n=${n})`);
    }
    assert.equal(counts.size, n);
  }
});

Deno.test("RingHashBalancer passes an avoided host's key to the next host, consistently", () => {
  const hosts = makeHosts(Array(5).fill(1));
  const lb = ring(hosts);
  for (const key of KEYS.slice(0, 300)) {
    const first = lb.pick(key)!;
    const avoid = new Set([first]);
    const second = lb.pick(key, avoid)!;
    assert.notEqual(second, first);
    assert.equal(lb.pick(key, avoid), second);
    // A retry goes where the key would go if the tried host were gone.
    assert.equal(second, ring(hosts.filter((h) => h !== first)).pick(key));
  }
  // Several tried hosts: the same (10 and 8 hosts have rings of the same scale).
  const ten = makeHosts(Array(10).fill(1));
  const avoid = new Set([ten[3], ten[7]]);
  const full = ring(ten);
  const without = ring(ten.filter((h) => !avoid.has(h)));
  for (const key of KEYS.slice(0, 500)) assert.equal(full.pick(key, avoid), without.pick(key));
});

Deno.test("RingHashBalancer sizes its ring by weight and bounds", () => {
  assert.equal(ring(makeHosts([1, 1, 1])).size, 1536);
  assert.equal(ring(makeHosts(Array(300).fill(1))).size, 300 * 128);
  assert.equal(ring(makeHosts([1, 1_000_000])).size, 125_001);
  const small = new RingHashBalancer({ rng: seededRng(1) }, { minRingSize: 16, minHostPoints: 4 });
  small.update(makeHosts([1, 1]));
  assert.equal(small.size, 16);
});

Deno.test("RingHashBalancer rejects invalid ring sizes", () => {
  const rng = seededRng(1);
  assert.throws(() => new RingHashBalancer({ rng }, { minRingSize: 0 }), RangeError);
  assert.throws(() => new RingHashBalancer({ rng }, { maxRingSize: 1.5 }), RangeError);
  assert.throws(
    () => new RingHashBalancer({ rng }, { minRingSize: 4096, maxRingSize: 1024 }),
    { name: "RangeError", message: /raise maxRingSize/ },
  );
});

Deno.test("RingHashBalancer places keys exactly as its documented layout says", () => {
  // The layout is a wire format of sorts: every sidecar must compute the same ring.
  const hosts = makeHosts([1, 2, 3, 1, 4]);
  const counts = ringPointCounts(hosts.map((h) => h.weight));
  const points: { hash: number; key: string }[] = [];
  hosts.forEach((h, j) => {
    for (let i = 0; i < counts[j]; i++) points.push({ hash: hash32(`${h.key}_${i}`), key: h.key });
  });
  points.sort((a, b) => a.hash - b.hash || (a.key < b.key ? -1 : 1));
  const lb = ring(hosts);
  assert.equal(lb.size, points.length);
  for (const key of KEYS.slice(0, 3000)) {
    const h = hash32(key);
    const owner = (points.find((p) => p.hash >= h) ?? points[0]).key;
    assert.equal(lb.pick(key)!.key, owner, key);
  }
});
