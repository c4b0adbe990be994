import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { adminHandler, type AdminSource } from "../../src/control/admin.ts";
import type { MembersView } from "../../src/discovery/member_view.ts";
import { MetricsRegistry } from "../../src/telemetry/mod.ts";

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

function source(members?: () => MembersView): AdminSource {
  return {
    config: () => config,
    clusters: () => [],
    members,
    registry: new MetricsRegistry(),
    ready: () => true,
  };
}

const get = (src: AdminSource, path: string) =>
  adminHandler(src)(new Request(`http://admin${path}`));

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
  const r = get(source(() => view), "/members");
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("content-type"), "application/json");
  assert.deepEqual(await r.json(), view);
});

Deno.test("admin: /members is 404 with the reason when gossip is off", async () => {
  const r = get(source(), "/members");
  assert.equal(r.status, 404);
  assert.match(await r.text(), /gossip is off/);
});

Deno.test("admin: /config does not show the cluster keys", async () => {
  const r = get(source(), "/config");
  const text = await r.text();
  assert.ok(!text.includes(KEY), "the base64 key text");
  const shown = JSON.parse(text);
  assert.deepEqual(shown.gossip.keys, ["(redacted)"]);
  assert.equal(shown.gossip.bind, "127.0.0.1:7946");
});

Deno.test("admin: the index lists /members", async () => {
  assert.match(await get(source(), "/").text(), /\/members/);
});
