import assert from "node:assert/strict";
import { loadConfigFile, parseConfig } from "../../src/config/mod.ts";
import {
  adminHandler,
  type AdminHandlerOptions,
  AdminServer,
  type AdminSource,
  configText,
} from "../../src/control/admin.ts";
import type { LifecycleHooks, ReloadOutcome } from "../../src/control/lifecycle.ts";
import { silentLogger, systemClock } from "../../src/core/mod.ts";
import type { MembersView } from "../../src/discovery/member_view.ts";
import { MetricsRegistry } from "../../src/telemetry/mod.ts";
import { waitFor } from "../_harness/mod.ts";

const KEY = "q83vEjRWeJqrze8SNFZ4mg==";

const config = parseConfig(
  `listeners:
  - name: in
    address: 127.0.0.1:10000
    routes: [{ cluster: web }]
clusters:
  - name: web
    discovery: { type: gossip, service: web }
gossip:
  bind: 127.0.0.1:7946
  keys: ["${KEY}"]
`,
  "admin_test.yaml",
);

function source(members?: () => MembersView, more: Partial<AdminSource> = {}): AdminSource {
  return {
    config: () => config,
    clusters: () => [],
    members,
    registry: new MetricsRegistry(),
    ready: () => true,
    ...more,
  };
}

const get = (src: AdminSource, path: string, method = "GET", opts?: AdminHandlerOptions) =>
  adminHandler(src, opts)(new Request(`http://admin${path}`, { method }));
const post = (src: AdminSource, path: string, opts?: AdminHandlerOptions) =>
  get(src, path, "POST", opts);

/** Hooks that record what they were asked. */
function recordingHooks(outcome: ReloadOutcome) {
  const drains: string[] = [];
  let reloads = 0;
  const hooks: LifecycleHooks = {
    reload: () => {
      reloads++;
      return Promise.resolve(outcome);
    },
    drain: (reason) => void drains.push(reason),
  };
  return { hooks, drains, reloads: () => reloads };
}

Deno.test("admin: /members shows the membership view", async () => {
  const view: MembersView = {
    self: "a",
    cluster: "shop",
    members: [
      {
        name: "a",
        address: "127.0.0.1:7946",
        state: "alive",
        incarnation: 0,
        spiffe_id: "",
        services: [],
      },
      {
        name: "b",
        address: "127.0.0.1:7947",
        state: "suspect",
        incarnation: 3,
        spiffe_id: "spiffe://shop/b",
        services: [{ name: "web", port: 8080, protocol: "http", labels: { version: "v2" } }],
      },
    ],
  };
  const r = await get(source(() => view), "/members");
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("content-type"), "application/json");
  assert.deepEqual(await r.json(), view);
});

Deno.test("admin: /members is 404 with the reason when gossip is off", async () => {
  const r = await get(source(), "/members");
  assert.equal(r.status, 404);
  assert.match(await r.text(), /gossip is off/);
});

Deno.test("admin: /config does not show the cluster keys", async () => {
  const r = await get(source(), "/config");
  const text = await r.text();
  assert.ok(!text.includes(KEY), "the base64 key text");
  const shown = JSON.parse(text);
  assert.deepEqual(shown.gossip.keys, ["(redacted)"]);
  assert.equal(shown.gossip.bind, "127.0.0.1:7946");
});

Deno.test("admin: the index lists every path", async () => {
  const text = await (await get(source(), "/")).text();
  for (const p of ["/ready", "/members", "/metrics", "/config/diff", "/reload", "/drain"]) {
    assert.ok(text.includes(p), `${p} in ${text}`);
  }
});

Deno.test("admin: every response names the process that answered", async () => {
  const src = source();
  for (const [path, method] of [["/ready", "GET"], ["/nope", "GET"], ["/drain", "GET"]]) {
    const r = await get(src, path, method, { pid: 4242 });
    await r.body?.cancel();
    assert.equal(r.headers.get("x-skiff-pid"), "4242", `${method} ${path}`);
  }
});

Deno.test("admin: a wrong method is 405 with the methods that path takes", async () => {
  const src = source(undefined, { hooks: recordingHooks({ ok: true, version: 1 }).hooks });
  const cases: [string, string, string][] = [
    ["/ready", "POST", "GET, HEAD"],
    ["/config/diff", "DELETE", "GET, HEAD"],
    ["/drain", "GET", "POST"],
    ["/reload", "PUT", "POST"],
  ];
  for (const [path, method, allow] of cases) {
    const r = await get(src, path, method);
    await r.body?.cancel();
    assert.equal(r.status, 405, `${method} ${path}`);
    assert.equal(r.headers.get("allow"), allow, `${method} ${path}`);
  }
  assert.equal((await get(src, "/nope", "POST")).status, 404);
});

Deno.test("admin: POST /drain starts a drain and answers 202 at once", async () => {
  const h = recordingHooks({ ok: true, version: 1 });
  let handovers = 0;
  const opts = { pid: 77, onHandover: () => handovers++ };
  const r = await post(source(undefined, { hooks: h.hooks }), "/drain", opts);
  assert.equal(r.status, 202);
  assert.deepEqual(await r.json(), { pid: 77, draining: true });
  assert.deepEqual(h.drains, ["POST /drain"]);
  assert.equal(handovers, 0, "a plain drain keeps the admin port while draining");
});

Deno.test("admin: POST /drain?handover=1 drains and lets the admin port go", async () => {
  const h = recordingHooks({ ok: true, version: 1 });
  let handovers = 0;
  const opts = { pid: 77, onHandover: () => handovers++ };
  const r = await post(source(undefined, { hooks: h.hooks }), "/drain?handover=1", opts);
  assert.equal(r.status, 202);
  await r.body?.cancel();
  assert.deepEqual(h.drains, ["hot restart"]);
  assert.equal(handovers, 1);
});

Deno.test("admin: POST /reload answers the outcome: 200 applied, 409 refused", async () => {
  const applied: ReloadOutcome = { ok: true, version: 2, restartNeeded: [] };
  const ok = recordingHooks(applied);
  const r = await post(source(undefined, { hooks: ok.hooks }), "/reload");
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), applied);
  assert.equal(ok.reloads(), 1);

  const refused: ReloadOutcome = { ok: false, version: 1, error: "skiff.yaml:3:5: bad" };
  const no = recordingHooks(refused);
  const r2 = await post(source(undefined, { hooks: no.hooks }), "/reload");
  assert.equal(r2.status, 409);
  assert.deepEqual(await r2.json(), refused);
});

Deno.test("admin: without hooks, /reload and /drain are 404 and nothing happens", async () => {
  for (const path of ["/reload", "/drain", "/drain?handover=1"]) {
    let handovers = 0;
    const r = await post(source(), path, { onHandover: () => handovers++ });
    await r.body?.cancel();
    assert.equal(r.status, 404, path);
    assert.equal(handovers, 0, path);
  }
});

Deno.test("admin: /config/diff shows the shadow report, 404 with the reason when off", async () => {
  const report = { checked: 3, changed: [{ path: "/a", from: "r1", to: null }] };
  const off = await get(source(undefined, { configDiff: () => report }), "/config/diff");
  assert.equal(off.status, 404);
  assert.match(await off.text(), /reload\.shadow: true/);
  const shadowOn = { ...config, reload: { ...config.reload, shadow: true } };
  const on = await get(
    source(undefined, { config: () => shadowOn, configDiff: () => report }),
    "/config/diff",
  );
  assert.equal(on.status, 200);
  assert.deepEqual(await on.json(), report);
});

Deno.test("admin server: a handover lets the port go, after answering", async () => {
  const h = recordingHooks({ ok: true, version: 1 });
  const server = new AdminServer(
    { hostname: "127.0.0.1", port: 0 },
    source(undefined, { hooks: h.hooks }),
    silentLogger(systemClock),
  );
  try {
    const port = server.addr.port;
    const ready = await fetch(`http://127.0.0.1:${port}/ready`);
    await ready.body?.cancel();
    assert.equal(ready.headers.get("x-skiff-pid"), String(Deno.pid));
    const r = await fetch(`http://127.0.0.1:${port}/drain?handover=1`, { method: "POST" });
    assert.equal(r.status, 202);
    assert.deepEqual(await r.json(), { pid: Deno.pid, draining: true });
    // A successor binds the port once it is free (exclusively, as skiff binds it).
    const taken = await waitFor("the admin port to be free", () => {
      try {
        return Deno.listen({ hostname: "127.0.0.1", port });
      } catch (err) {
        if (err instanceof Deno.errors.AddrInUse) return undefined;
        throw err;
      }
    });
    taken!.close();
  } finally {
    await server.close();
  }
});

Deno.test("admin: /config is written as the config file is, and loads again as the same config", async () => {
  for (const name of ["full.yaml", "gossip.yaml", "mesh.yaml", "minimal.yaml"]) {
    const path = new URL(`../../deploy/examples/${name}`, import.meta.url).pathname;
    const config = await loadConfigFile(path);
    const text = configText(config);
    assert.deepEqual(parseConfig(text, `/config of ${name}`), config, name);
    if (name === "full.yaml") {
      const shown = JSON.parse(text);
      assert.equal(shown.listeners[0].timeouts.idle, "30s");
      assert.equal(shown.clusters[0].connect_timeout, "500ms");
      assert.equal(shown.listeners[0].address, "0.0.0.0:8080");
    }
  }
});
