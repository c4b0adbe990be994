// End-to-end: `skiff run --hot-restart` of a skiff whose cluster discovers its endpoints by
// gossip, with real child processes on loopback. Node B offers a service; node A routes to it
// through a gossip-discovered cluster. A is hot-restarted under a bounded request loop: no
// request fails (the new A serves B's endpoints from the old A's /members until it has
// joined), B never holds A as left or dead (the old A stops gossip without a leave), and B
// then holds A alive at a higher incarnation (the new A continues the member, newer).
import assert from "node:assert/strict";
import { freePort, spawnSkiff, startHttpUpstream, waitFor } from "../_harness/mod.ts";
import {
  GOSSIP_DEADLINE_MS,
  type GossipNode,
  gossipNodeYaml,
  type MembersView,
  startGossipNode,
  uniqueCluster,
} from "./_gossip_nodes.ts";
import { exitOf, OPTS, startLoad } from "./_lifecycle.ts";

/** Everything B's `/members` said about member `name`, polled until `stop()`. */
function watchMember(b: GossipNode, name: string) {
  const seen: { state: string; incarnation: number }[] = [];
  let stopped = false;
  const polling = waitFor(`${b.name}'s /members to be polled`, async () => {
    const m = (await b.members()).members.find((x) => x.name === name);
    if (m) seen.push({ state: m.state, incarnation: m.incarnation });
    return stopped;
  }, 5 * GOSSIP_DEADLINE_MS);
  return {
    seen,
    stop: async () => {
      stopped = true;
      await polling;
      return seen;
    },
  };
}

function member(view: MembersView, name: string) {
  const m = view.members.find((x) => x.name === name);
  assert.ok(m, `${name} on /members of ${view.self}: ${JSON.stringify(view)}`);
  return m;
}

/** A's config: the gossip test node's, with the fixed ports a hot restart takes over. */
function hotRestartableYaml(
  o: Parameters<typeof gossipNodeYaml>[0],
  ports: { admin: number; gossip: number; web: number },
): string {
  const base = gossipNodeYaml(o, ports.web);
  const yaml = base
    .replace(`admin: { address: "127.0.0.1:0" }`, `admin: { address: "127.0.0.1:${ports.admin}" }`)
    .replace(`  bind: 127.0.0.1:0`, `  bind: 127.0.0.1:${ports.gossip}`);
  assert.notEqual(yaml, base);
  assert.match(yaml, new RegExp(`127\\.0\\.0\\.1:${ports.gossip}`));
  assert.match(yaml, new RegExp(`127\\.0\\.0\\.1:${ports.admin}`));
  return yaml;
}

for (const workers of [0, 1]) {
  Deno.test(
    `hot restart with gossip (workers: ${workers}): no request fails, peers never see A leave, ` +
      "A comes back newer",
    OPTS,
    async () => {
      await using up = startHttpUpstream("from-b-service");
      const cluster = uniqueCluster(`hot-restart-w${workers}`);
      await using b = await startGossipNode({
        name: "b",
        cluster,
        services: [{ name: "web", port: up.port }],
      });
      const dir = await Deno.makeTempDir({ prefix: "skiff_e2e_hot_restart_gossip_" });
      try {
        const ports = { admin: freePort(), gossip: freePort(), web: freePort() };
        const file = `${dir}/skiff.yaml`;
        await Deno.writeTextFile(
          file,
          hotRestartableYaml(
            { name: "a", cluster, seeds: [b.gossip], discover: "web", workers },
            ports,
          ),
        );
        const adminUrl = `http://127.0.0.1:${ports.admin}`;
        const url = `http://127.0.0.1:${ports.web}/through-a`;
        await using old = await spawnSkiff(
          ["run", "-c", file, "--events", "json"],
          `${adminUrl}/ready`,
        );
        await waitFor("A to route to B's service", async () => {
          const res = await fetch(url, { headers: { connection: "close" } });
          return res.status === 200 && (await res.text()) === "from-b-service";
        }, GOSSIP_DEADLINE_MS);
        const before = member(await b.members(), "a");
        assert.equal(before.state, "alive");

        const watch = watchMember(b, "a");
        const load = startLoad(url, {
          clients: 2,
          maxPerClient: 50_000,
          deadlineMs: 120_000,
          check: (_res, body) =>
            body === "from-b-service" ? undefined : `body ${body.slice(0, 200)}`,
        });
        try {
          await load.more(50);
          await using next = await spawnSkiff([
            "run",
            "-c",
            file,
            "--hot-restart",
            "--events",
            "json",
          ]);
          await next.waitForLog("hot restart complete", { old_pid: old.child.pid }, 40_000);
          assert.equal(await exitOf(old), 0, old.stderr());
          // The old A is gone: from here every request is the new A's.
          await load.more(200);
          const stats = await load.stop();
          assert.equal(
            stats.failed,
            0,
            `${stats.failed} of ${stats.sent} failed: ${stats.failures.join("; ")}\n` +
              `new A:\n${next.stderr()}`,
          );
          const stoppedAt = old.logs().find((l) =>
            String(l.msg).startsWith("gossip stopped without a leave")
          );
          assert.ok(stoppedAt, `the old A left gossip some other way:\n${old.stderr()}`);
          const oldLast = Number(stoppedAt.incarnation);

          // B takes the new A as the same member, newer.
          const after = await waitFor("B to hold A alive at a higher incarnation", async () => {
            const m = member(await b.members(), "a");
            return m.state === "alive" && m.incarnation > before.incarnation ? m : undefined;
          }, GOSSIP_DEADLINE_MS);
          assert.equal(after!.address, before.address);
          const self = member(await (await fetch(`${adminUrl}/members`)).json(), "a");
          assert.ok(self.incarnation > oldLast, `new A ${self.incarnation}, old A ${oldLast}`);
          const seen = await watch.stop();
          assert.ok(seen.length > 0);
          const gone = seen.filter((s) => s.state === "left" || s.state === "dead");
          assert.deepEqual(gone, [], `B's /members showed A as ${JSON.stringify(gone)}`);
          const events = b.events().filter((e) => e.member === "a").map((e) => e.event);
          assert.ok(
            !events.includes("leave") && !events.includes("dead"),
            `B's events about A: ${events.join(", ")}`,
          );
          assert.equal(await next.stop(), 0, next.stderr());
        } finally {
          await load.stop();
          await watch.stop();
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}
