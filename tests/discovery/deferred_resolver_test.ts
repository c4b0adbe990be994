import assert from "node:assert/strict";
import {
  DeferredResolver,
  type EndpointSet,
  GossipResolver,
  StaticResolver,
} from "../../src/discovery/mod.ts";
import type { MemberInfo } from "../../src/discovery/gossip/mod.ts";
import { type MembersView, memberView } from "../../src/discovery/member_view.ts";
import { resolverConformance } from "./resolver_conformance.ts";

// Seeded with something else, then following the source under test: what it reports from
// then on is the source's.
resolverConformance("DeferredResolver (following)", (initial) => {
  const live = new StaticResolver(initial);
  const resolver = new DeferredResolver([{ address: { hostname: "10.9.9.9", port: 1 } }]);
  resolver.follow(live);
  return { resolver, change: (endpoints) => void live.replace(endpoints) };
});

const a = { address: { hostname: "10.0.0.1", port: 80 } };
const b = { address: { hostname: "10.0.0.2", port: 80 }, labels: { v: "2" } };

const keys = (set: EndpointSet) => set.endpoints.map((e) => e.key).sort();

Deno.test("DeferredResolver serves its seed until it follows, then the live source", () => {
  const r = new DeferredResolver([a]);
  const live = new StaticResolver([b]);
  const seen: EndpointSet[] = [];
  r.watch((set) => seen.push(set));
  assert.deepEqual(keys(r.current()), ["10.0.0.1:80"]);
  assert.equal(r.following, false);
  const v0 = r.current().version;

  r.follow(live);
  assert.equal(r.following, true);
  assert.deepEqual(keys(r.current()), ["10.0.0.2:80"]);
  assert.deepEqual(r.current().endpoints[0].labels, { v: "2" });
  assert.equal(seen.length, 1, "watchers hear of the switch");
  assert.ok(seen[0].version > v0, "the version keeps growing across the switch");

  live.replace([a, b]);
  assert.deepEqual(keys(r.current()), ["10.0.0.1:80", "10.0.0.2:80"]);
  assert.equal(seen.length, 2);
  assert.ok(seen[1].version > seen[0].version);
});

Deno.test("DeferredResolver: a live set equal to the seed is no change for watchers", () => {
  const r = new DeferredResolver([a, b]);
  let calls = 0;
  r.watch(() => calls++);
  const before = r.current();
  r.follow(new StaticResolver([b, a]));
  assert.equal(calls, 0);
  assert.equal(r.current(), before);
});

Deno.test("DeferredResolver: close lets go of the live source, which stays open", () => {
  const r = new DeferredResolver();
  const live = new StaticResolver([a]);
  let liveCalls = 0;
  live.watch(() => liveCalls++);
  r.follow(live);
  r.close();
  live.replace([b]);
  assert.equal(liveCalls, 1, "the live source still serves its own watchers");
  assert.deepEqual(keys(r.current()), ["10.0.0.1:80"], "the last set stays");
  r.follow(new StaticResolver([b]));
  assert.deepEqual(keys(r.current()), ["10.0.0.1:80"], "a closed resolver follows nothing");
});

Deno.test("DeferredResolver: following another source lets go of the first", () => {
  const r = new DeferredResolver();
  const first = new StaticResolver([a]);
  const second = new StaticResolver([b]);
  r.follow(first);
  r.follow(second);
  first.replace([a, b]);
  assert.deepEqual(keys(r.current()), ["10.0.0.2:80"]);
});

const web = (port: number, version = "v1") => ({
  name: "web",
  port,
  protocol: "http",
  labels: { version },
});
const info = (
  name: string,
  address: string,
  state: MemberInfo["state"],
  services: MemberInfo["services"],
  spiffeId = "",
): MemberInfo => ({ name, address, incarnation: 3, state, spiffeId, services });

Deno.test("DeferredResolver.fromMembers maps a /members answer as GossipResolver maps members", () => {
  const others: MemberInfo[] = [
    info(
      "b",
      "10.0.0.2:7946",
      "alive",
      [web(8080), { ...web(9090), name: "admin" }],
      "spiffe://t/b",
    ),
    info("c", "10.0.0.3:7946", "suspect", [web(8080, "v2")]),
    info("d", "10.0.0.4:7946", "dead", [web(8080)]),
    info("e", "10.0.0.5:7946", "left", [web(8080)]),
  ];
  // The node answering /members lists itself first; it is the process being replaced.
  const self = info("a", "10.0.0.1:7946", "alive", [web(8080)]);
  const view: MembersView = {
    self: "a",
    cluster: "prod",
    members: [self, ...others].map(memberView),
  };
  // Through JSON, as it arrives from the old process.
  const seeded = DeferredResolver.fromMembers("web", JSON.parse(JSON.stringify(view)));
  const live = new GossipResolver("web", { members: () => others });
  assert.deepEqual(seeded.current().endpoints, live.current().endpoints);
  assert.deepEqual(keys(seeded.current()), ["10.0.0.2:8080", "10.0.0.3:8080"]);
  const [eb] = seeded.current().endpoints;
  assert.deepEqual(eb.labels, { version: "v1", member: "b" });
  assert.equal(eb.spiffeId, "spiffe://t/b");
  assert.deepEqual(DeferredResolver.fromMembers("other", view).current().endpoints, []);
});
