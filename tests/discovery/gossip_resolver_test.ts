import assert from "node:assert/strict";
import { GossipResolver } from "../../src/discovery/mod.ts";
import type { MemberInfo } from "../../src/discovery/gossip/mod.ts";
import { SKIFF_DEFAULTS, SwimNode } from "../../src/discovery/gossip/mod.ts";
import { protobufCodec } from "../../src/discovery/gossip/wire/mod.ts";
import { SimNetwork } from "../../src/net/sim/mod.ts";

const member = (
  name: string,
  address: string,
  state: MemberInfo["state"],
  services: MemberInfo["services"],
): MemberInfo => ({ name, address, incarnation: 0, state, spiffeId: "", services });
const web = (port: number, version = "v1") => ({
  name: "web",
  port,
  protocol: "http",
  labels: { version },
});

Deno.test("GossipResolver: live and suspected members offering the service, nothing else", () => {
  let members: MemberInfo[] = [
    member("a", "10.0.0.1:7946", "alive", [web(8080), { ...web(9090), name: "admin" }]),
    member("b", "10.0.0.2:7946", "suspect", [web(8080, "v2")]),
    member("c", "10.0.0.3:7946", "dead", [web(8080)]),
    member("d", "10.0.0.4:7946", "left", [web(8080)]),
    member("e", "10.0.0.5:7946", "alive", [web(70000)]), // port out of range: skipped
    member("f", "not an address", "alive", [web(8080)]),
    member("g", "10.0.0.1:7947", "alive", [web(8080)]), // same host and port as a: first wins
  ];
  const r = new GossipResolver("web", { members: () => members });
  const set = r.current();
  assert.deepEqual(set.endpoints.map((e) => e.key), ["10.0.0.1:8080", "10.0.0.2:8080"]);
  assert.deepEqual(set.endpoints[1].labels, { version: "v2", member: "b" });
  const seen: number[] = [];
  r.watch((s) => seen.push(s.endpoints.length));
  assert.equal(r.refresh(), false, "nothing changed: no new set");
  members = members.map((m) => m.name === "b" ? { ...m, state: "dead" as const } : m);
  assert.equal(r.refresh(), true);
  assert.deepEqual(seen, [1]);
  assert.ok(r.current().version > set.version);
  r.close();
});

Deno.test("GossipResolver over a gossiping cluster: a crashed member's endpoint goes, a rejoin brings it back", async () => {
  const net = new SimNetwork({ seed: 11, defaults: { latencyMs: 2, jitterMs: 1 } });
  const names = ["10.0.0.1:7946", "10.0.0.2:7946", "10.0.0.3:7946", "10.0.0.4:7946"];
  const nodes = new Map<string, SwimNode>();
  // Membership events refresh the resolver, which exists once the cluster is up.
  const ref: { resolver?: GossipResolver } = {};
  const boot = async (name: string, i: number) => {
    nodes.get(name)?.stop();
    const sim = nodes.has(name) ? net.restart(name) : net.node(name);
    let nonce = 0;
    const node = new SwimNode(
      { name, address: name, incarnation: 0, spiffeId: "", services: i > 0 ? [web(8080 + i)] : [] },
      {
        transport: sim.transport,
        clock: sim.clock,
        rng: sim.rng,
        codec: protobufCodec({
          cluster: "t",
          clock: sim.clock,
          randomBytes: (b) => new DataView(b.buffer, b.byteOffset, b.length).setUint32(0, ++nonce),
        }),
        config: SKIFF_DEFAULTS,
        onEvent: () => ref.resolver?.refresh(),
      },
    );
    nodes.set(name, node);
    const joined = node.start(i === 0 ? [] : [names[0]]);
    await net.runFor(50);
    await joined;
  };
  for (const [i, n] of names.entries()) await boot(n, i);
  const resolver = new GossipResolver("web", nodes.get(names[0])!);
  ref.resolver = resolver;
  const keys = () => resolver.current().endpoints.map((e) => e.key).sort();
  const until = async (cond: () => boolean, maxMs: number) => {
    for (const start = net.now; !cond();) {
      if (net.now - start > maxMs) throw new Error(`Not within ${maxMs} virtual ms: ${keys()}`);
      await net.runFor(100);
    }
  };
  await until(() => keys().length === 3, 20_000);
  assert.deepEqual(keys(), ["10.0.0.2:8081", "10.0.0.3:8082", "10.0.0.4:8083"]);
  net.kill(names[2]);
  await until(() => keys().length === 2, 60_000);
  assert.deepEqual(keys(), ["10.0.0.2:8081", "10.0.0.4:8083"]);
  await boot(names[2], 2);
  await until(() => keys().length === 3, 60_000);
  for (const n of nodes.values()) n.stop();
  resolver.close();
});
