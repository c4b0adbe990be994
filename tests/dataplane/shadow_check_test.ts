import assert from "node:assert/strict";
import { type Config, parseConfig, type ReloadGuardName } from "../../src/config/mod.ts";
import { HeadRing } from "../../src/dataplane/http/head_ring.ts";
import { Router } from "../../src/dataplane/http/router.ts";
import {
  type ShadowChange,
  shadowCheck,
  type ShadowReport,
  shadowSummary,
} from "../../src/dataplane/shadow_check.ts";

const ALL: ReloadGuardName[] = ["route_removed", "no_route", "rerouted"];

/** A config from the YAML of its listeners, with clusters a, b and c. */
function config(listeners: string): Config {
  return parseConfig(
    `listeners:\n${listeners}\nclusters: [{ name: a }, { name: b }, { name: c }]\n`,
    "skiff.yaml",
  );
}

/** Requests as "METHOD path" (listener "in", authority "svc.local") or "listener METHOD path". */
type Req = string;

/** Routes `requests` through `running` and records them as the proxy would. */
function traffic(running: Config, requests: Req[]): HeadRing {
  const ring = new HeadRing(requests.length || 1);
  const routers = new Map(running.listeners.map((l) => [l.name, new Router(l.routes)]));
  for (const req of requests) {
    const parts = req.split(" ");
    const [listener, method, path] = parts.length === 3 ? parts : ["in", ...parts];
    const headers = method === "POST" ? ["content-type", "application/json"] : [];
    const route = routers.get(listener)?.match(method, "svc.local", path, headers);
    ring.record(listener, method, "svc.local", path, headers, route?.name);
  }
  return ring;
}

/** A change in a short form: `in: api(a) -> web(b) x2 [GET /x]`. */
function brief(c: ShadowChange): string {
  const t = (x: ShadowChange["before"]) => x.route === null ? "none" : `${x.route}(${x.clusters})`;
  const e = c.example;
  return `${c.listener}: ${t(c.before)} -> ${t(c.after)} x${c.requests} [${e.method} ${e.path}]`;
}

const API_WEB = `
  - name: in
    address: 127.0.0.1:0
    routes:
      - { name: api, match: { prefix: /api/ }, cluster: a }
      - { name: web, match: { prefix: /, methods: [GET] }, cluster: b }`;

interface Case {
  name: string;
  old: string;
  new: string;
  requests: Req[];
  guards?: ReloadGuardName[];
  violated: ReloadGuardName[];
  changes: string[];
  removed?: string[];
  counts?: Partial<Pick<ShadowReport, "rerouted" | "lost" | "gained" | "stale">>;
}

const CASES: Case[] = [
  {
    name: "no change",
    old: API_WEB,
    new: API_WEB,
    requests: ["GET /api/x", "POST /api/y", "GET /", "POST /nothing"],
    violated: [],
    changes: [],
    counts: { rerouted: 0, lost: 0, gained: 0, stale: 0 },
  },
  {
    name: "a route with traffic removed",
    old: API_WEB,
    new: `
  - name: in
    address: 127.0.0.1:0
    routes:
      - { name: web, match: { prefix: /, methods: [GET] }, cluster: b }`,
    requests: ["GET /api/x", "POST /api/y", "GET /api/z", "GET /"],
    guards: ["route_removed"],
    violated: ["route_removed"],
    changes: [
      "in: api(a) -> web(b) x2 [GET /api/x]",
      "in: api(a) -> none x1 [POST /api/y]",
    ],
    removed: ["in/api x3"],
    counts: { rerouted: 2, lost: 1 },
  },
  {
    name: "a route without traffic removed",
    old: API_WEB,
    new: `
  - name: in
    address: 127.0.0.1:0
    routes:
      - { name: web, match: { prefix: /, methods: [GET] }, cluster: b }`,
    requests: ["GET /", "GET /index.html"],
    guards: ALL,
    violated: [],
    changes: [],
  },
  {
    name: "a path prefix narrowed",
    old: API_WEB,
    new: `
  - name: in
    address: 127.0.0.1:0
    routes:
      - { name: api, match: { prefix: /api/v2/ }, cluster: a }
      - { name: web, match: { prefix: /, methods: [GET] }, cluster: b }`,
    requests: ["GET /api/v1/x", "POST /api/v1/x", "GET /api/v2/x", "POST /api/v2/x"],
    guards: ALL,
    violated: ["no_route", "rerouted"],
    changes: [
      "in: api(a) -> web(b) x1 [GET /api/v1/x]",
      "in: api(a) -> none x1 [POST /api/v1/x]",
    ],
  },
  {
    name: "a cluster switched",
    old: API_WEB,
    new: `
  - name: in
    address: 127.0.0.1:0
    routes:
      - { name: api, match: { prefix: /api/ }, cluster: c }
      - { name: web, match: { prefix: /, methods: [GET] }, cluster: b }`,
    requests: ["GET /api/x", "GET /api/y?q=1", "GET /"],
    guards: ALL,
    violated: ["rerouted"],
    changes: ["in: api(a) -> api(c) x2 [GET /api/x]"],
  },
  {
    name: "a listener removed",
    old: `${API_WEB}
  - name: admin
    address: 127.0.0.1:0
    routes: [{ name: ops, cluster: c }]`,
    new: API_WEB,
    requests: ["admin GET /stats", "admin GET /stats", "GET /api/x"],
    guards: ALL,
    violated: ["route_removed", "no_route", "rerouted"],
    changes: ["admin: ops(c) -> none x2 [GET /stats]"],
    removed: ["admin/ops x2 (listener removed)"],
  },
  {
    name: "weighted cluster weights changed, same clusters",
    old: `
  - name: in
    address: 127.0.0.1:0
    routes:
      - name: api
        weighted_clusters: [{ cluster: a, weight: 90 }, { cluster: b, weight: 10 }]`,
    new: `
  - name: in
    address: 127.0.0.1:0
    routes:
      - name: api
        weighted_clusters: [{ cluster: b, weight: 50 }, { cluster: a, weight: 50 }]`,
    requests: ["GET /x", "GET /y"],
    guards: ALL,
    violated: [],
    changes: [],
  },
  {
    name: "a cluster added to a weighted route",
    old: `
  - name: in
    address: 127.0.0.1:0
    routes: [{ name: api, cluster: a }]`,
    new: `
  - name: in
    address: 127.0.0.1:0
    routes:
      - name: api
        weighted_clusters: [{ cluster: a, weight: 99 }, { cluster: c, weight: 1 }]`,
    requests: ["GET /x"],
    guards: ALL,
    violated: ["rerouted"],
    changes: ["in: api(a) -> api(a,c) x1 [GET /x]"],
  },
  {
    name: "a 404 that would find a route violates nothing",
    old: API_WEB,
    new: `${API_WEB}
      - { name: catchall, cluster: c }`,
    requests: ["DELETE /thing", "GET /"],
    guards: ALL,
    violated: [],
    changes: ["in: none -> catchall(c) x1 [DELETE /thing]"],
    counts: { gained: 1, rerouted: 0, lost: 0 },
  },
  {
    name: "the default guard lets a reroute through",
    old: API_WEB,
    new: `
  - name: in
    address: 127.0.0.1:0
    routes:
      - { name: api, match: { prefix: /api/ }, cluster: c }
      - { name: web, match: { prefix: /, methods: [GET] }, cluster: b }`,
    requests: ["GET /api/x"],
    guards: ["route_removed"],
    violated: [],
    changes: ["in: api(a) -> api(c) x1 [GET /api/x]"],
  },
];

for (const c of CASES) {
  Deno.test(`shadowCheck: ${c.name}`, () => {
    const running = config(c.old);
    const report = shadowCheck(
      traffic(running, c.requests).heads(),
      running,
      config(c.new),
      c.guards ?? ALL,
    );
    assert.equal(report.replayed, c.requests.length);
    assert.deepEqual(report.violations.map((v) => v.guard), c.violated);
    assert.equal(report.ok, c.violated.length === 0);
    assert.deepEqual(report.changes.map(brief), c.changes);
    assert.deepEqual(
      report.removed_routes.map((r) =>
        `${r.listener}/${r.route} x${r.requests}${r.listener_removed ? " (listener removed)" : ""}`
      ),
      c.removed ?? [],
    );
    for (const [k, v] of Object.entries(c.counts ?? {})) {
      assert.equal(report[k as keyof typeof c.counts], v, k);
    }
    assert.deepEqual(JSON.parse(JSON.stringify(report)), report, "plain JSON");
  });
}

Deno.test("shadowCheck says which route is gone, with how much traffic, in one sentence", () => {
  const running = config(API_WEB);
  const requests = [...Array(412).fill("GET /api/x"), ...Array(588).fill("GET /")];
  const report = shadowCheck(
    traffic(running, requests).heads(),
    running,
    config(`
  - name: in
    address: 127.0.0.1:0
    routes: [{ name: web, match: { prefix: / }, cluster: b }]`),
    ["route_removed", "no_route"],
  );
  assert.deepEqual(report.violations, [{
    guard: "route_removed",
    message: 'route "api" on listener "in" carried 412 of the last 1000 requests and is gone',
  }]);
  assert.equal(
    shadowSummary(report),
    "shadow check: 1000 requests replayed, 412 would change route or cluster, " +
      "0 would lose their route, 0 would find one; guards violated: route_removed " +
      '(route "api" on listener "in" carried 412 of the last 1000 requests and is gone)',
  );
});

Deno.test("shadowCheck no_route names an example request and where it went", () => {
  const running = config(API_WEB);
  const report = shadowCheck(
    traffic(running, ["POST /api/v1/x?secret=1"]).heads(),
    running,
    config(`
  - name: in
    address: 127.0.0.1:0
    routes: [{ name: api, match: { prefix: /api/v2/ }, cluster: a }]`),
    ["no_route"],
  );
  assert.deepEqual(report.violations, [{
    guard: "no_route",
    message: "1 of the last 1 requests would match no route, " +
      'e.g. POST svc.local/api/v1/x on listener "in": route "api" (a) → no route',
  }]);
});

Deno.test("shadowCheck summary of an unchanged version", () => {
  const running = config(API_WEB);
  const report = shadowCheck(
    traffic(running, ["GET /", "GET /api/"]).heads(),
    running,
    running,
    ALL,
  );
  assert.equal(
    shadowSummary(report),
    "shadow check: 2 requests replayed, 0 would change route or cluster, " +
      "0 would lose their route, 0 would find one; guards ok",
  );
});

Deno.test("shadowCheck compares from the running version when the recorded route is stale", () => {
  // Recorded under an earlier version that sent /api/ to "legacy"; the running version has
  // "api" there, and so does the new one: nothing changes, the head only counts as stale.
  const running = config(API_WEB);
  const ring = new HeadRing(2);
  ring.record("in", "GET", "svc.local", "/api/x", [], "legacy");
  ring.record("in", "GET", "svc.local", "/api/y", [], "api");
  const report = shadowCheck(ring.heads(), running, running, ALL);
  assert.equal(report.stale, 1);
  assert.equal(report.ok, true);
  assert.deepEqual(report.removed_routes, []);
});

Deno.test("shadowCheck with no recorded request holds every guard", () => {
  const report = shadowCheck(
    [],
    config(API_WEB),
    config(`
  - name: other
    address: 127.0.0.1:0`),
    ALL,
  );
  assert.equal(report.ok, true);
  assert.equal(report.replayed, 0);
});

Deno.test("shadowCheck replays header matches with the headers the request carried", () => {
  const routes = (cluster: string) => `
  - name: in
    address: 127.0.0.1:0
    routes:
      - name: json
        match: { headers: [{ name: content-type, exact: application/json }] }
        cluster: ${cluster}
      - { name: rest, cluster: a }`;
  const running = config(routes("a"));
  const report = shadowCheck(
    traffic(running, ["POST /x", "GET /x"]).heads(), // only POST carries content-type
    running,
    config(routes("b")),
    ALL,
  );
  assert.deepEqual(report.changes.map(brief), ["in: json(a) -> json(b) x1 [POST /x]"]);
});
