import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { StaticResolver } from "../../src/discovery/mod.ts";
import type { MembersView } from "../../src/discovery/member_view.ts";
import type { Membership } from "../../src/runtime/membership.ts";
import { GossipResolvers, successorOptions } from "../../src/runtime/start_membership.ts";

const withGossip = parseConfig(
  `listeners: [{ name: in, address: "127.0.0.1:0", routes: [{ cluster: web }] }]
clusters:
  - name: web
    discovery: { type: gossip, service: web }
  - name: web-again
    discovery: { type: gossip, service: web }
  - name: fixed
    endpoints: [{ address: "127.0.0.1:9" }]
gossip: { bind: "127.0.0.1:0" }
`,
  "start_membership_test.yaml",
);
const cluster = (name: string) => withGossip.clusters.find((c) => c.name === name)!;

const service = (port: number) => ({ name: "web", port, protocol: "http", labels: {} });
/** The old process's /members: itself (a) and b, which serves web on 8080. */
const predecessor: MembersView = {
  self: "a",
  cluster: "default",
  members: [
    {
      name: "a",
      address: "10.0.0.1:7946",
      state: "alive",
      incarnation: 4,
      spiffe_id: "",
      services: [service(8080)],
    },
    {
      name: "b",
      address: "10.0.0.2:7946",
      state: "alive",
      incarnation: 0,
      spiffe_id: "",
      services: [service(8080)],
    },
    {
      name: "c",
      address: "10.0.0.3:7946",
      state: "suspect",
      incarnation: 2,
      spiffe_id: "",
      services: [],
    },
    {
      name: "d",
      address: "10.0.0.4:7946",
      state: "dead",
      incarnation: 1,
      spiffe_id: "",
      services: [service(8080)],
    },
  ],
};

/** A membership whose live resolvers the test drives, and whose join the test settles. */
function fakeMembership() {
  const live = new Map<string, StaticResolver>();
  const joined = Promise.withResolvers<boolean>();
  const resolver = (s: string) => {
    if (!live.has(s)) live.set(s, new StaticResolver([]));
    return live.get(s)!;
  };
  const membership = { resolver, joined: joined.promise } as unknown as Membership;
  return { membership, live: resolver, joined };
}

const keys = (r: { current(): { endpoints: readonly { key: string }[] } }) =>
  r.current().endpoints.map((e) => e.key);

Deno.test("GossipResolvers: seeded from the old /members, they switch once membership joined", async () => {
  const g = new GossipResolvers(withGossip);
  g.seed(predecessor);
  const web = g.resolver(cluster("web"))!;
  assert.equal(g.resolver(cluster("web-again")), web, "one resolver per service");
  assert.equal(g.resolver(cluster("fixed")), undefined);
  assert.deepEqual(keys(web), ["10.0.0.2:8080"], "b's endpoint; a is the replaced process");

  const m = fakeMembership();
  g.follow(m.membership);
  await Promise.resolve();
  // Membership runs but has not heard from anyone: its empty view must not replace the seed.
  assert.deepEqual(keys(web), ["10.0.0.2:8080"]);
  m.joined.resolve(true);
  await m.membership.joined;
  await Promise.resolve();
  m.live("web").replace([{ address: { hostname: "10.0.0.5", port: 8080 } }]);
  assert.deepEqual(keys(web), ["10.0.0.5:8080"], "live from now on");
  g.close();
});

Deno.test("GossipResolvers: without a seed they follow membership at once", () => {
  const g = new GossipResolvers(withGossip);
  const web = g.resolver(cluster("web"))!;
  assert.deepEqual(keys(web), []);
  const m = fakeMembership();
  g.follow(m.membership);
  m.live("web").replace([{ address: { hostname: "10.0.0.5", port: 8080 } }]);
  assert.deepEqual(keys(web), ["10.0.0.5:8080"]);
  // A cluster asked for later (a reload adds it) follows too.
  const late = new GossipResolvers(withGossip);
  late.follow(m.membership);
  assert.deepEqual(keys(late.resolver(cluster("web"))!), ["10.0.0.5:8080"]);
  g.close();
  late.close();
});

Deno.test("GossipResolvers: a gossip cluster without a gossip section is refused", () => {
  const g = new GossipResolvers({ ...withGossip, gossip: undefined });
  assert.throws(() => g.resolver(cluster("web")), /discovers by gossip, but it is off/);
  assert.equal(g.resolver(cluster("fixed")), undefined);
});

Deno.test("successorOptions: one incarnation above the old member, its alive peers as seeds", () => {
  assert.deepEqual(successorOptions(predecessor), {
    incarnation: 5,
    seeds: ["10.0.0.2:7946"],
  });
});
