// End-to-end: gossip membership between real `skiff run` processes on loopback (UDP and TCP):
// nodes find each other through a seed, gossip-discovered clusters route to the members
// offering a service, a crash is detected and its endpoints go, a rejoin brings them back, a
// SIGTERM is a graceful leave, and a node holding the wrong cluster key never gets in.
import assert from "node:assert/strict";
import { startHttpUpstream, waitFor } from "../_harness/mod.ts";
import {
  GOSSIP_DEADLINE_MS,
  type GossipNode,
  type MembersView,
  randomKey,
  startGossipNode,
  uniqueCluster,
} from "./_gossip_nodes.ts";

/** What a request through a node's listener got back. */
interface Answer {
  status: number;
  body: string;
  /** The `x-skiff-error` header. */
  error: string | null;
}

/** One request through a node's listener on a fresh connection (spread over Workers). */
async function get(node: GossipNode, path = "/"): Promise<Answer> {
  const res = await fetch(`${node.url}${path}`, { headers: { connection: "close" } });
  return { status: res.status, body: await res.text(), error: res.headers.get("x-skiff-error") };
}

/** Waits until `n` requests in a row through `node` are answered as `ok` says. */
function waitForAnswers(
  what: string,
  node: GossipNode,
  ok: (r: Answer) => boolean,
  n = 1,
): Promise<boolean> {
  return waitFor(what, async () => {
    for (let i = 0; i < n; i++) if (!ok(await get(node))) return false;
    return true;
  }, GOSSIP_DEADLINE_MS);
}

const noHealthyUpstream = (r: Answer) => r.status === 503 && r.error === "no_healthy_upstream";

function names(view: MembersView): string[] {
  return view.members.map((m) => m.name);
}

/** The member `name` of a `/members` answer; fails when absent. */
function member(view: MembersView, name: string) {
  const m = view.members.find((x) => x.name === name);
  assert.ok(m, `${name} on /members of ${view.self}: ${JSON.stringify(view)}`);
  return m;
}

async function skiffCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", new URL("../../src/main.ts", import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

Deno.test("gossip: three nodes find each other and discovery routes traffic", async () => {
  await using up = startHttpUpstream("from-web-upstream");
  const cluster = uniqueCluster("three");
  await using a = await startGossipNode({ name: "a", cluster, discover: "web" });
  await using b = await startGossipNode({ name: "b", cluster, seeds: [a.gossip] });
  await using c = await startGossipNode({
    name: "c",
    cluster,
    seeds: [a.gossip],
    services: [{ name: "web", port: up.port }],
  });
  const nodes = [a, b, c];
  for (const n of nodes) {
    for (const other of nodes.filter((o) => o !== n)) await n.waitEvent(["join"], other.name);
  }
  for (const n of nodes) {
    const own = n.events();
    assert.ok(
      own.every((e) => e.node === n.name),
      `events of ${n.name} name it: ${n.process.stdout()}`,
    );
    assert.ok(own.every((e) => e.member !== n.name), `${n.name} reports no event of itself`);
    assert.ok(own.every((e) => typeof e.t === "number" && e.t > 0));
  }

  const view = await a.members();
  assert.equal(view.self, "a");
  assert.equal(view.cluster, cluster);
  assert.deepEqual(names(view), ["a", "b", "c"], "self first, then the others by name");
  assert.deepEqual(view.members.map((m) => m.state), ["alive", "alive", "alive"]);
  assert.equal(member(view, "a").address, a.gossip);
  assert.equal(member(view, "b").address, b.gossip);
  assert.equal(member(view, "c").address, c.gossip);
  assert.deepEqual(member(view, "c").services, [
    { name: "web", port: up.port, protocol: "http", labels: {} },
  ]);
  assert.deepEqual(member(view, "b").services, []);

  // a discovered c's service: its listener reaches the upstream c announced.
  const r = await get(a, "/via-gossip");
  assert.equal(r.status, 200, r.body);
  assert.equal(r.body, "from-web-upstream");
  assert.equal(new URL(up.requests.at(-1)!.url).pathname, "/via-gossip");

  // The CLI, as an operator runs it.
  const json = await skiffCli(["members", "--admin", a.admin, "--json"]);
  assert.equal(json.code, 0, json.stderr);
  const cliView = JSON.parse(json.stdout) as MembersView;
  assert.deepEqual(names(cliView), ["a", "b", "c"]);
  assert.equal(cliView.self, "a");
  const table = await skiffCli(["members", "--admin", a.admin]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^\* a\s+127\.0\.0\.1:\d+\s+alive\s/m, table.stdout);
  assert.match(table.stdout, /^ {2}b\s+127\.0\.0\.1:\d+\s+alive\s/m, table.stdout);
  assert.match(
    table.stdout,
    new RegExp(`^ {2}c\\s.*\\salive\\s.*web:${up.port}$`, "m"),
    table.stdout,
  );
});

Deno.test("gossip: a crash is detected, its endpoints removed, and a rejoin restores them", async () => {
  await using up = startHttpUpstream("from-web-upstream");
  const cluster = uniqueCluster("crash");
  await using a = await startGossipNode({ name: "a", cluster, discover: "web" });
  await using b = await startGossipNode({ name: "b", cluster, seeds: [a.gossip] });
  const offer = {
    name: "c",
    cluster,
    seeds: [a.gossip],
    services: [{ name: "web", port: up.port }],
  };
  await using c = await startGossipNode(offer);
  await a.waitEvent(["join"], "b");
  await a.waitEvent(["join"], "c");
  await b.waitEvent(["join"], "c");
  const before = member(await a.members(), "c");
  assert.equal((await get(a)).status, 200);

  const aFrom = a.events().length;
  const bFrom = b.events().length;
  await c.kill();
  const aDead = await a.waitEvent(["dead"], "c", aFrom);
  await b.waitEvent(["dead"], "c", bFrom);
  // The upstream itself still runs: only discovery can have taken it away.
  await waitForAnswers("503 no_healthy_upstream through a", a, noHealthyUpstream);
  assert.notEqual(member(await a.members(), "c").state, "alive");

  await using c2 = await startGossipNode(offer);
  await a.waitEvent(["join", "alive"], "c", aDead + 1);
  await waitForAnswers(
    "200 through a again",
    a,
    (r) => r.status === 200 && r.body === "from-web-upstream",
  );
  const after = member(await a.members(), "c");
  assert.equal(after.state, "alive");
  assert.equal(after.address, c2.gossip, "a knows the rejoined c at its new address");
  assert.ok(
    after.incarnation > before.incarnation || after.address !== before.address,
    `rejoined c is newer: before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`,
  );
});

Deno.test("gossip: SIGTERM is a graceful leave, not a death", async () => {
  const cluster = uniqueCluster("leave");
  await using a = await startGossipNode({ name: "a", cluster });
  await using b = await startGossipNode({ name: "b", cluster, seeds: [a.gossip] });
  await a.waitEvent(["join"], "b");
  const from = a.events().length;
  const exit = b.stop();
  const at = await a.waitEvent(["leave", "dead", "suspect"], "b", from);
  assert.equal(a.events()[at].event, "leave", a.process.stdout());
  assert.equal(await exit, 0, b.process.stderr());
  await waitFor("b shown as left on /members of a", async () => {
    return member(await a.members(), "b").state === "left";
  }, GOSSIP_DEADLINE_MS);
  assert.ok(
    !a.events().some((e) => e.member === "b" && (e.event === "dead" || e.event === "suspect")),
    a.process.stdout(),
  );
});

Deno.test("gossip: an encrypted cluster keeps out a node with another key", async () => {
  const key = randomKey();
  const cluster = uniqueCluster("keys");
  await using e1 = await startGossipNode({ name: "e1", cluster, keys: [key] });
  await using e2 = await startGossipNode({ name: "e2", cluster, keys: [key], seeds: [e1.gossip] });
  await e1.waitEvent(["join"], "e2");
  await e2.waitEvent(["join"], "e1");
  const strangerKey = randomKey();
  await using stranger = await startGossipNode({
    name: "stranger",
    cluster,
    keys: [strangerKey],
    seeds: [e1.gossip],
  });
  // The stranger's join reaches e1, which drops it for its key and does not answer (its
  // member list is for holders of the key only), so the stranger keeps trying.
  await waitFor("e1 dropping the stranger's packet for its key", async () => {
    return await e1.metric("skiff_gossip_packets_dropped_total", { reason: "bad_key" }) > 0;
  }, GOSSIP_DEADLINE_MS);
  await waitFor("the stranger retrying its join", () => {
    return stranger.process.stderr().includes("no gossip seed answered with a readable state");
  }, GOSSIP_DEADLINE_MS);
  // Several more protocol rounds between e1 and e2 (15 probes span a push-pull interval).
  const pings = await e2.metric("skiff_gossip_packets_sent_total", { kind: "ping" });
  await waitFor("e2 probing 15 more times", async () => {
    return await e2.metric("skiff_gossip_packets_sent_total", { kind: "ping" }) >= pings + 15;
  }, GOSSIP_DEADLINE_MS);
  assert.deepEqual(names(await e1.members()), ["e1", "e2"]);
  assert.deepEqual(names(await e2.members()), ["e2", "e1"]);
  assert.deepEqual(names(await stranger.members()), ["stranger"]);
  for (const n of [e1, e2]) {
    assert.ok(!n.events().some((e) => e.member === "stranger"), n.process.stdout());
  }
  assert.deepEqual(stranger.events(), []);

  // The key is a secret: /config says there is one, not what it is.
  const config = await (await fetch(`${e1.adminUrl}/config`)).text();
  assert.ok(!config.includes(key), "the key is not on /config");
  assert.equal(JSON.parse(config).gossip.keys.length, 1);
  assert.match(config, /redacted/);
});

Deno.test("gossip: Workers route to a gossip-discovered service and lose it with its member", async () => {
  await using up = startHttpUpstream("from-web-upstream");
  const cluster = uniqueCluster("workers");
  await using a = await startGossipNode({ name: "a", cluster, discover: "web", workers: 2 });
  await using c = await startGossipNode({
    name: "c",
    cluster,
    seeds: [a.gossip],
    services: [{ name: "web", port: up.port }],
  });
  await a.waitEvent(["join"], "c");
  // Fresh connections, which the kernel spreads over both Workers: each must have c's endpoint.
  await waitForAnswers(
    "200s through both Workers",
    a,
    (r) => r.status === 200 && r.body === "from-web-upstream",
    10,
  );
  const from = a.events().length;
  await c.kill();
  await a.waitEvent(["dead"], "c", from);
  await waitForAnswers("503 no_healthy_upstream through both Workers", a, noHealthyUpstream, 10);
});
