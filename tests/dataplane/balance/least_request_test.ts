import assert from "node:assert/strict";
import { seededRng } from "../../../src/core/mod.ts";
import { LeastRequestBalancer } from "../../../src/dataplane/balance/mod.ts";
import { balancerConformance, makeHosts, tally } from "./conformance.ts";

balancerConformance("LeastRequestBalancer", (rng) => new LeastRequestBalancer({ rng }));

const busy = (host: { begin(): void }, n: number) => {
  for (let i = 0; i < n; i++) host.begin();
};

Deno.test("LeastRequestBalancer always prefers the idle host of two", () => {
  const [a, b] = makeHosts([1, 1]);
  busy(a, 1);
  const lb = new LeastRequestBalancer({ rng: seededRng(1) });
  lb.update([a, b]);
  assert.deepEqual([...tally(lb, 1000).keys()], [b]);
});

Deno.test("LeastRequestBalancer never picks the busiest of ten hosts", () => {
  const hosts = makeHosts(Array(10).fill(1));
  busy(hosts[4], 10);
  const lb = new LeastRequestBalancer({ rng: seededRng(2) });
  lb.update(hosts);
  const counts = tally(lb, 5000);
  assert.equal(counts.get(hosts[4]), undefined);
  assert.equal(counts.size, 9);
});

Deno.test("LeastRequestBalancer compares requests in flight per unit of weight", () => {
  const [light, heavy] = makeHosts([1, 4]);
  busy(light, 1); // 1 per unit of weight
  busy(heavy, 3); // 0.75 per unit of weight
  const lb = new LeastRequestBalancer({ rng: seededRng(3) });
  lb.update([light, heavy]);
  assert.deepEqual([...tally(lb, 1000).keys()], [heavy]);
  busy(heavy, 2); // 1.25
  assert.deepEqual([...tally(lb, 1000).keys()], [light]);
});

Deno.test("LeastRequestBalancer draws two different hosts even with unequal weights", () => {
  const [a, b] = makeHosts([1_000, 1]);
  busy(a, 1);
  const lb = new LeastRequestBalancer({ rng: seededRng(4) });
  lb.update([a, b]);
  assert.deepEqual([...tally(lb, 2000).keys()], [b]);
});

Deno.test("LeastRequestBalancer sees load that changes after update", () => {
  const hosts = makeHosts([1, 1, 1]);
  const lb = new LeastRequestBalancer({ rng: seededRng(5) });
  lb.update(hosts);
  busy(hosts[0], 5);
  lb.update([...hosts, ...makeHosts([1], 11)]);
  assert.equal(tally(lb, 2000).get(hosts[0]), undefined);
});
