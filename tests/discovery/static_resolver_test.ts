import assert from "node:assert/strict";
import { type EndpointSet, StaticResolver } from "../../src/discovery/mod.ts";
import { resolverConformance } from "./resolver_conformance.ts";

resolverConformance("StaticResolver", (initial) => {
  const resolver = new StaticResolver(initial);
  return { resolver, change: (endpoints) => void resolver.replace(endpoints) };
});

const a = { address: { hostname: "10.0.0.1", port: 80 } };
const b = { address: { hostname: "10.0.0.2", port: 80 }, weight: 2, labels: { v: "2" } };

Deno.test("StaticResolver starts at version 1 and counts changes one by one", () => {
  const r = new StaticResolver([a]);
  assert.equal(r.current().version, 1);
  assert.equal(r.replace([a, b]), true);
  assert.equal(r.current().version, 2);
  assert.equal(r.replace([b]), true);
  assert.equal(r.current().version, 3);
});

Deno.test("StaticResolver defaults weight to 1 and labels to none", () => {
  const [ep] = new StaticResolver([a]).current().endpoints;
  assert.equal(ep.weight, 1);
  assert.deepEqual(ep.labels, {});
});

Deno.test("StaticResolver.replace with the same endpoints in any order is not a change", () => {
  const r = new StaticResolver([a, b]);
  let calls = 0;
  r.watch(() => calls++);
  const before = r.current();
  assert.equal(r.replace([{ ...b, labels: { v: "2" } }, a]), false);
  assert.equal(r.current(), before);
  assert.equal(calls, 0);
});

Deno.test("StaticResolver.replace treats a weight or label change as a change", () => {
  const r = new StaticResolver([a, b]);
  assert.equal(r.replace([a, { ...b, weight: 3 }]), true);
  assert.equal(r.replace([a, { ...b, weight: 3, labels: { v: "3" } }]), true);
  assert.equal(r.replace([a, { ...b, weight: 3, labels: { v: "3", zone: "x" } }]), true);
  assert.equal(r.current().version, 4);
});

Deno.test("StaticResolver rejects duplicate addresses and keeps the old set", () => {
  assert.throws(() => new StaticResolver([a, a]), {
    name: "TypeError",
    message: /"10\.0\.0\.1:80" is listed twice/,
  });
  const r = new StaticResolver([a]);
  assert.throws(() => r.replace([b, b]), TypeError);
  assert.equal(r.current().version, 1);
  assert.equal(r.current().endpoints[0].key, "10.0.0.1:80");
});

Deno.test("StaticResolver rejects weights that are not above 0 or not finite", () => {
  for (const weight of [0, -1, NaN, Infinity]) {
    assert.throws(() => new StaticResolver([{ ...a, weight }]), {
      name: "RangeError",
      message: /weight/,
    });
  }
  assert.throws(
    () => new StaticResolver([{ address: { hostname: "x", port: 0 } }]),
    RangeError,
  );
});

Deno.test("StaticResolver sets are frozen and copied from the input", () => {
  const labels: Record<string, string> = { v: "1" };
  const r = new StaticResolver([{ ...a, labels }]);
  labels.v = "changed";
  const set = r.current();
  assert.equal(set.endpoints[0].labels.v, "1");
  assert.ok(Object.isFrozen(set));
  assert.ok(Object.isFrozen(set.endpoints));
  assert.ok(Object.isFrozen(set.endpoints[0]));
  assert.ok(Object.isFrozen(set.endpoints[0].labels));
  assert.ok(Object.isFrozen(set.endpoints[0].address));
});

Deno.test("StaticResolver notifies all watchers even when one throws, then rethrows", () => {
  const r = new StaticResolver([a]);
  const seen: EndpointSet[] = [];
  r.watch(() => {
    throw new Error("boom");
  });
  r.watch((set) => seen.push(set));
  assert.throws(() => r.replace([b]), { message: "boom" });
  assert.equal(seen.length, 1);
  assert.equal(r.current().version, 2);

  r.watch(() => {
    throw new Error("second");
  });
  assert.throws(() => r.replace([a]), (err) => {
    assert.ok(err instanceof AggregateError);
    assert.deepEqual(err.errors.map((e: Error) => e.message), ["boom", "second"]);
    return true;
  });
  assert.equal(seen.length, 2);
});

Deno.test("StaticResolver ignores replace after close", () => {
  const r = new StaticResolver([a]);
  r.close();
  assert.equal(r.replace([b]), false);
  assert.equal(r.current().endpoints[0].key, "10.0.0.1:80");
});
