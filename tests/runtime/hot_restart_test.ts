import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { Logger, systemClock } from "../../src/core/mod.ts";
import type { MembersView } from "../../src/discovery/member_view.ts";
import { startGuarded } from "../../src/runtime/hot_restart.ts";
import type { StartOptions } from "../../src/runtime/lifecycle.ts";

const listeners = `listeners: [{ name: in, address: "127.0.0.1:0", routes: [{ cluster: web }] }]`;
const GOSSIP = parseConfig(
  `admin: { address: "127.0.0.1:19901" }
${listeners}
clusters: [{ name: web, discovery: { type: gossip, service: web } }]
gossip: { name: a, bind: "127.0.0.1:0" }
`,
  "hot_restart_test.yaml",
);
const PLAIN = parseConfig(
  `admin: { address: "127.0.0.1:19901" }
${listeners}
clusters: [{ name: web, endpoints: [{ address: "127.0.0.1:9" }] }]
`,
  "hot_restart_test.yaml",
);

/** The old skiff's /members with its own incarnation at `incarnation`. */
function membersOf(incarnation: number): MembersView {
  return {
    self: "a",
    cluster: "default",
    members: [
      {
        name: "a",
        address: "127.0.0.1:7946",
        state: "alive",
        incarnation,
        spiffe_id: "",
        services: [],
      },
      {
        name: "b",
        address: "127.0.0.1:7947",
        state: "alive",
        incarnation: 0,
        spiffe_id: "",
        services: [{ name: "web", port: 8080, protocol: "http", labels: {} }],
      },
    ],
  };
}

/**
 * A hot restart against a fake old skiff (pid 4242) on the admin port: what was asked of it,
 * in order, and what the new skiff's `start` and `bindAdmin` were given.
 */
async function hotRestart(
  config: typeof GOSSIP,
  members: (call: number) => Response,
  drainStatus = 202,
) {
  const steps: string[] = [];
  const lines: Record<string, unknown>[] = [];
  let memberCalls = 0;
  const started: StartOptions[] = [];
  const bound: ({ members?: MembersView } | undefined)[] = [];
  const code = await startGuarded(
    {
      start: (opts) => {
        steps.push("start");
        started.push(opts ?? {});
        return Promise.resolve();
      },
      bindAdmin: (opts) => {
        steps.push("bindAdmin");
        bound.push(opts);
        return Promise.resolve();
      },
      stop: () => {
        steps.push("stop");
        return Promise.resolve();
      },
    },
    config,
    true,
    {
      clock: systemClock,
      log: new Logger({
        clock: systemClock,
        sink: (l) => lines.push(JSON.parse(l)),
        level: "debug",
      }),
      listen: () => {
        throw new Deno.errors.AddrInUse("taken");
      },
      readTextFile: () => Promise.resolve("1"),
      fetch: (input, init) => {
        const url = new URL(String(input));
        steps.push(`${init?.method ?? "GET"} ${url.pathname}${url.search}`);
        if (url.pathname === "/members") return Promise.resolve(members(memberCalls++));
        const status = url.pathname === "/drain" ? drainStatus : 200;
        return Promise.resolve(new Response("{}", { status, headers: { "x-skiff-pid": "4242" } }));
      },
    },
  );
  return { code, steps, lines, started, bound };
}

Deno.test("hot restart with gossip: the old /members seeds start, its latest goes to bindAdmin", async () => {
  const r = await hotRestart(GOSSIP, (call) => Response.json(membersOf(call === 0 ? 4 : 6)));
  assert.equal(r.code, 0);
  assert.deepEqual(r.steps, [
    "GET /",
    "GET /members",
    "start",
    // Read again just before the handover: the old member may have refuted a suspicion since.
    "GET /members",
    "POST /drain?handover=1",
    "bindAdmin",
  ]);
  assert.equal(r.started[0].deferAdmin, true);
  assert.deepEqual(r.started[0].members, membersOf(4));
  assert.deepEqual(r.bound[0]?.members, membersOf(6));
});

Deno.test("hot restart without gossip: /members is not asked for", async () => {
  const r = await hotRestart(PLAIN, () => new Response("gossip is off", { status: 404 }));
  assert.equal(r.code, 0);
  assert.deepEqual(r.steps, ["GET /", "start", "POST /drain?handover=1", "bindAdmin"]);
  assert.deepEqual(r.started[0], { deferAdmin: true, members: undefined });
});

Deno.test("hot restart with gossip: an unreadable /members starts unseeded, with a warning", async () => {
  const r = await hotRestart(GOSSIP, () => Response.json({ self: "a", members: "none" }));
  assert.equal(r.code, 0);
  assert.equal(r.started[0].members, undefined);
  assert.equal(r.bound[0]?.members, undefined);
  const warned = r.lines.filter((l) =>
    String(l.msg).startsWith("hot restart: cannot read the old skiff's gossip members")
  );
  assert.equal(warned.length, 2, JSON.stringify(r.lines));
  assert.match(String(warned[0].err), /cluster is not a string/);
});

Deno.test("hot restart: an old skiff that refuses to drain keeps serving; the new one stops, exit 1", async () => {
  const r = await hotRestart(PLAIN, () => new Response("gossip is off", { status: 404 }), 409);
  assert.equal(r.code, 1);
  assert.deepEqual(r.steps, ["GET /", "start", "POST /drain?handover=1", "stop"]);
  assert.ok(r.lines.some((l) => String(l.msg).startsWith("hot restart refused")));
});
