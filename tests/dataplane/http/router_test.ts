import assert from "node:assert/strict";
import { Router, stripPort } from "../../../src/dataplane/http/router.ts";
import { seededRng } from "../../../src/core/rng.ts";
import { routesFromConfig } from "../config_fixture.ts";

/** A router over `routes` (as written in YAML), each route named after its index. */
function router(...routes: Record<string, unknown>[]): Router {
  return new Router(
    routesFromConfig(routes.map((r, i) => ({ name: `r${i}`, cluster: "a", ...r }))),
  );
}

/** The name of the route taking the request, or "none". */
function pick(
  r: Router,
  req: { method?: string; host?: string; path: string; headers?: string[] },
) {
  return r.match(req.method ?? "GET", req.host ?? "svc.local", req.path, req.headers ?? [])?.name ??
    "none";
}

/** Asserts which requests (by path) a route with `match` takes. */
function assertPaths(match: Record<string, unknown>, table: [path: string, taken: boolean][]) {
  const r = router({ match });
  for (const [path, taken] of table) {
    assert.equal(pick(r, { path }), taken ? "r0" : "none", `${JSON.stringify(match)} ${path}`);
  }
}

Deno.test("Router prefix match ignores the query string", () => {
  assertPaths({ prefix: "/api/" }, [
    ["/api/", true],
    ["/api/users", true],
    ["/api/users?id=1", true],
    ["/api", false],
    ["/api?x=/api/", false], // the prefix appears only in the query
    ["/apix/", false],
    ["/other/api/", false],
  ]);
});

Deno.test("Router exact path match ignores the query string", () => {
  assertPaths({ path: "/health" }, [
    ["/health", true],
    ["/health?verbose=1", true],
    ["/health?", true],
    ["/health/", false],
    ["/healthz", false],
    ["/x/health", false],
  ]);
});

Deno.test("Router regex must match the whole path, without the query string", () => {
  assertPaths({ regex: "/users/[0-9]+" }, [
    ["/users/42", true],
    ["/users/42?tab=1", true],
    ["/users/abc", false],
    ["/users/42/edit", false],
    ["/api/users/42", false],
    ["/q?next=/users/42", false],
  ]);
  assertPaths({ regex: "^/session/[a-z0-9-]+$" }, [ // anchors written out still work
    ["/session/ab-12", true],
    ["/session/ab-12?x", true],
    ["/session/AB", false],
  ]);
  assertPaths({ regex: "/a|/b" }, [ // alternation covers the whole path too
    ["/a", true],
    ["/b", true],
    ["/a/x", false],
    ["/x/b", false],
  ]);
});

Deno.test("Router with no path condition takes every path", () => {
  assertPaths({}, [["/", true], ["/anything?at=all", true], ["*", true]]);
});

Deno.test("Router exact authority: case-insensitive, port ignored", () => {
  const r = router({ match: { authority: "API.local" } });
  const table: [host: string, taken: boolean][] = [
    ["api.local", true],
    ["API.LOCAL", true],
    ["api.local:8080", true],
    ["api.local:", true],
    ["x.api.local", false],
    ["api.local.evil", false],
    ["api.locals", false],
    ["", false],
  ];
  for (const [host, taken] of table) {
    assert.equal(pick(r, { host, path: "/" }), taken ? "r0" : "none", `host ${host}`);
  }
});

Deno.test("Router wildcard authority matches subdomains only", () => {
  const r = router({ match: { authority: "*.example.com" } });
  const table: [host: string, taken: boolean][] = [
    ["a.example.com", true],
    ["A.B.Example.COM", true],
    ["api.example.com:443", true],
    ["example.com", false], // the bare domain is not a subdomain
    ["example.com:443", false],
    [".example.com", false],
    ["badexample.com", false],
    ["a.example.com.evil", false],
    ["a.example.org", false],
  ];
  for (const [host, taken] of table) {
    assert.equal(pick(r, { host, path: "/" }), taken ? "r0" : "none", `host ${host}`);
  }
});

Deno.test("Router IPv6 authority ignores the port", () => {
  const r = router({ match: { authority: "[::1]" } });
  for (const host of ["[::1]", "[::1]:80", "[::1]:10000"]) {
    assert.equal(pick(r, { host, path: "/" }), "r0", host);
  }
  for (const host of ["[::2]:80", "127.0.0.1:80", "localhost"]) {
    assert.equal(pick(r, { host, path: "/" }), "none", host);
  }
});

Deno.test("stripPort removes only a port", () => {
  const table: [string, string][] = [
    ["a.local:80", "a.local"],
    ["a.local", "a.local"],
    ["[::1]:80", "[::1]"],
    ["[::1]", "[::1]"],
    ["[2001:db8::1]:8443", "[2001:db8::1]"],
    ["10.0.0.1:9", "10.0.0.1"],
  ];
  for (const [authority, host] of table) assert.equal(stripPort(authority), host, authority);
});

Deno.test("Router methods", () => {
  const r = router({ match: { methods: ["GET", "HEAD"] } });
  const table: [method: string, taken: boolean][] = [
    ["GET", true],
    ["HEAD", true],
    ["POST", false],
    ["get", false],
  ];
  for (const [method, taken] of table) {
    assert.equal(pick(r, { method, path: "/" }), taken ? "r0" : "none", method);
  }
});

Deno.test("Router header matches: exact, prefix, regex, present, invert", () => {
  const one = (v: string) => ["x-env", v];
  const table: [header: Record<string, unknown>, headers: string[], taken: boolean][] = [
    [{ name: "x-env", exact: "canary" }, one("canary"), true],
    [{ name: "x-env", exact: "canary" }, one("Canary"), false],
    [{ name: "x-env", exact: "canary" }, one("canary-2"), false],
    [{ name: "x-env", exact: "canary" }, [], false],
    [{ name: "X-Env", exact: "canary" }, one("canary"), true], // names compare lower-cased
    [{ name: "x-env", prefix: "can" }, one("canary"), true],
    [{ name: "x-env", prefix: "can" }, one("scan"), false],
    [{ name: "x-env", prefix: "" }, one(""), true],
    [{ name: "x-env", prefix: "" }, [], false],
    [{ name: "x-env", regex: "^c[a-z]+$" }, one("canary"), true],
    [{ name: "x-env", regex: "^c[a-z]+$" }, one("c4nary"), false],
    [{ name: "x-env", regex: ".*" }, [], false], // absent never matches a value test
    [{ name: "x-env", present: true }, one(""), true],
    [{ name: "x-env", present: true }, [], false],
    [{ name: "x-env", present: false }, [], true],
    [{ name: "x-env", present: false }, one("x"), false],
    [{ name: "x-env", exact: "canary", invert: true }, one("stable"), true],
    [{ name: "x-env", exact: "canary", invert: true }, one("canary"), false],
    [{ name: "x-env", exact: "canary", invert: true }, [], true], // absent is "not canary"
    [{ name: "x-env", present: true, invert: true }, [], true],
    [{ name: "x-env", present: true, invert: true }, one("x"), false],
    [{ name: "x-env", exact: "a" }, ["x-other", "a"], false],
  ];
  for (const [header, headers, taken] of table) {
    const r = router({ match: { headers: [header] } });
    const got = pick(r, { path: "/", headers });
    assert.equal(got, taken ? "r0" : "none", `${JSON.stringify(header)} on ${headers}`);
  }
});

Deno.test("Router header matches see repeated fields joined with commas", () => {
  const headers = ["x-env", "a", "accept", "*/*", "x-env", "b"];
  const table: [header: Record<string, unknown>, taken: boolean][] = [
    [{ name: "x-env", exact: "a,b" }, true],
    [{ name: "x-env", exact: "a" }, false],
    [{ name: "x-env", exact: "b" }, false],
    [{ name: "x-env", prefix: "a," }, true],
    [{ name: "x-env", regex: "(.*,)?b(,.*)?" }, true], // regex matches the whole value
    [{ name: "x-env", regex: "b" }, false],
    [{ name: "x-env", present: true }, true],
    [{ name: "x-env", exact: "a", invert: true }, true],
  ];
  for (const [header, taken] of table) {
    const r = router({ match: { headers: [header] } });
    assert.equal(pick(r, { path: "/", headers }), taken ? "r0" : "none", JSON.stringify(header));
  }
});

Deno.test("Router requires every condition of a route", () => {
  const r = router({
    match: {
      authority: "api.local",
      prefix: "/v1/",
      methods: ["POST"],
      headers: [{ name: "x-env", exact: "canary" }, { name: "x-debug", present: false }],
    },
  });
  const ok = { method: "POST", host: "api.local", path: "/v1/x", headers: ["x-env", "canary"] };
  assert.equal(pick(r, ok), "r0");
  assert.equal(pick(r, { ...ok, method: "GET" }), "none");
  assert.equal(pick(r, { ...ok, host: "web.local" }), "none");
  assert.equal(pick(r, { ...ok, path: "/v2/x" }), "none");
  assert.equal(pick(r, { ...ok, headers: [] }), "none");
  assert.equal(pick(r, { ...ok, headers: ["x-env", "canary", "x-debug", "1"] }), "none");
});

Deno.test("Router: the first matching route wins", () => {
  const r = router(
    { match: { prefix: "/api/v1/" }, cluster: "b" },
    { match: { prefix: "/api/" }, cluster: "c" },
    { match: { path: "/api/v1/special" }, cluster: "d" }, // shadowed by r0
    {},
  );
  const table: [string, string][] = [
    ["/api/v1/special", "r0"],
    ["/api/v1/x", "r0"],
    ["/api/v2/x", "r1"],
    ["/", "r3"],
  ];
  for (const [path, name] of table) assert.equal(pick(r, { path }), name, path);
  assert.equal(r.match("GET", "h", "/api/v2", [])?.clusters[0], "c");
});

Deno.test("Router: no route is undefined; unnamed routes are named by position", () => {
  const r = new Router(routesFromConfig([{ match: { prefix: "/a" }, cluster: "a" }, {
    match: { prefix: "/b" },
    cluster: "b",
  }]));
  assert.equal(r.match("GET", "h", "/c", []), undefined);
  assert.equal(r.match("GET", "h", "/b", [])?.name, "route_1");
  assert.equal(new Router([]).match("GET", "h", "/", []), undefined);
});

Deno.test("pickCluster splits by weight, deterministic for a seed", () => {
  const [route] = new Router(routesFromConfig([{
    weighted_clusters: [{ cluster: "a", weight: 1 }, { cluster: "b", weight: 3 }],
  }])).routes;
  assert.deepEqual(route.clusters, ["a", "b"]);
  const picks = (seed: number) => {
    const rng = seededRng(seed);
    return Array.from({ length: 10_000 }, () => route.pickCluster(rng));
  };
  for (const seed of [1, 2, 3]) {
    const p = picks(seed);
    const share = p.filter((c) => c === "b").length / p.length;
    assert.ok(Math.abs(share - 0.75) < 0.02, `seed ${seed}: b got ${share}, want 0.75`);
    assert.deepEqual(picks(seed), p, "the same seed picked differently");
  }
});

Deno.test("pickCluster never picks a cluster of weight 0", () => {
  const [route] = new Router(routesFromConfig([{
    weighted_clusters: [
      { cluster: "a", weight: 0 },
      { cluster: "b", weight: 1 },
      { cluster: "c", weight: 0 },
      { cluster: "d", weight: 2 },
    ],
  }])).routes;
  const counts: Record<string, number> = { a: 0, b: 0, c: 0, d: 0 };
  // Both ends of [0, 1) and a seeded spread in between.
  for (const x of [0, 1 - 2 ** -53, 1 / 3, 2 / 3]) counts[route.pickCluster(() => x)]++;
  const rng = seededRng(9);
  for (let i = 0; i < 3_000; i++) counts[route.pickCluster(rng)]++;
  assert.equal(counts.a, 0);
  assert.equal(counts.c, 0);
  assert.ok(counts.b > 800 && counts.d > 1_600, JSON.stringify(counts));
  assert.equal(route.pickCluster(() => 0), "b");
  assert.equal(route.pickCluster(() => 1 - 2 ** -53), "d");
});

Deno.test("pickCluster with a single cluster needs no randomness", () => {
  const [route] = new Router(routesFromConfig([{ cluster: "c" }])).routes;
  assert.equal(route.pickCluster(() => assert.fail("rng used")), "c");
});

Deno.test("rewrite replaces the matched prefix and keeps the query string", () => {
  const table: [prefix: string, to: string, target: string, want: string][] = [
    ["/api/", "/", "/api/users", "/users"],
    ["/api/", "/", "/api/users?id=1&x=/api/", "/users?id=1&x=/api/"],
    ["/api", "/v2", "/api?x=1", "/v2?x=1"],
    ["/api", "/v2", "/api/items", "/v2/items"],
    ["/old/", "/new/", "/old/", "/new/"],
    ["/", "/prefix/", "/a?b", "/prefix/a?b"],
  ];
  for (const [prefix, to, target, want] of table) {
    const [route] = new Router(routesFromConfig([{
      match: { prefix },
      prefix_rewrite: to,
      cluster: "a",
    }])).routes;
    assert.equal(route.rewrite(target), want, `${prefix} -> ${to} on ${target}`);
  }
});

Deno.test("rewrite leaves targets alone without prefix_rewrite", () => {
  const [plain] = new Router(routesFromConfig([{ match: { prefix: "/api/" }, cluster: "a" }]))
    .routes;
  assert.equal(plain.rewrite("/api/x?y=1"), "/api/x?y=1");
});
