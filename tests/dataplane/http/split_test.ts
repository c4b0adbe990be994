// A route's traffic split: the weighted pick is exact in aggregate, sticky by header keeps
// each value on its branch, sticky by cookie sets and honours the cookie.
import assert from "node:assert/strict";
import { seededRng } from "../../../src/core/rng.ts";
import { type CompiledRoute, Router } from "../../../src/dataplane/http/router.ts";
import { branchId, cookieValue } from "../../../src/dataplane/http/traffic_split.ts";
import { routesFromConfig } from "../config_fixture.ts";

/** The compiled route of `route` (as written in YAML; clusters a to d exist). */
function compile(route: Record<string, unknown>): CompiledRoute {
  return new Router(routesFromConfig([route])).routes[0];
}

const CANARY = [
  { cluster: "a", subset: { version: "v1" }, weight: 90 },
  { cluster: "a", subset: { version: "v2" }, weight: 10 },
];

/** How many of `n` picks each branch got. */
function counts(n: number, pick: (i: number) => number, branches: number): number[] {
  const out = new Array(branches).fill(0);
  for (let i = 0; i < n; i++) out[pick(i)]++;
  return out;
}

/** Asserts each share of `got` is within `tolerance` of `want` (fractions). */
function assertShares(got: number[], want: number[], tolerance: number, what: string) {
  const total = got.reduce((a, b) => a + b, 0);
  got.forEach((g, i) => {
    const share = g / total;
    assert.ok(
      Math.abs(share - want[i]) <= tolerance,
      `${what}: branch ${i} got ${(share * 100).toFixed(2)} %, want ${want[i] * 100} % ` +
        `(counts ${got.join("/")})`,
    );
  });
}

Deno.test("split: 10,000 seeded picks of a 90/10 split land within 1 % of it", () => {
  const route = compile({ weighted_clusters: CANARY });
  assert.deepEqual(route.clusters, ["a"], "the same cluster twice is one cluster");
  for (const seed of [1, 7, 42, 2026]) {
    const rng = seededRng(seed);
    const got = counts(10_000, () => route.pickBranch([], rng).index, 2);
    assertShares(got, [0.9, 0.1], 0.01, `seed ${seed}`);
  }
  const b = route.pickBranch([], () => 0.95);
  assert.deepEqual([b.cluster, b.subset?.labels, b.setCookie], ["a", { version: "v2" }, undefined]);
});

Deno.test("split: a 3-way split lands within 1 % of each weight", () => {
  const route = compile({
    weighted_clusters: [
      { cluster: "a", weight: 50 },
      { cluster: "b", subset: { version: "v2" }, weight: 30 },
      { cluster: "c", weight: 20 },
    ],
  });
  for (const seed of [3, 11]) {
    const rng = seededRng(seed);
    const got = counts(10_000, () => route.pickBranch([], rng).index, 3);
    assertShares(got, [0.5, 0.3, 0.2], 0.01, `seed ${seed}`);
  }
});

Deno.test("split: the pick is uniform over the weights, at both ends of [0, 1)", () => {
  const route = compile({
    weighted_clusters: [
      { cluster: "a", weight: 1 },
      { cluster: "b", weight: 0 },
      { cluster: "c", weight: 3 },
      { cluster: "d", weight: 0 },
    ],
  });
  const at = (u: number) => route.pickBranch([], () => u).cluster;
  assert.deepEqual([0, 0.2499, 0.25, 0.5, 1 - 2 ** -53].map(at), ["a", "a", "c", "c", "c"]);
});

Deno.test("split: sticky header values keep their branch, and still split 90/10", () => {
  const route = compile({ weighted_clusters: CANARY, sticky: { header: "x-user" } });
  const rng = seededRng(5);
  const branchOf = (user: string) => route.pickBranch(["x-user", user], rng).index;
  const first = new Map<string, number>();
  for (let u = 0; u < 10_000; u++) first.set(`user-${u}`, branchOf(`user-${u}`));
  // Asked again (in another order, with the random source moved on): the same branches.
  for (let u = 9_999; u >= 0; u -= 7) {
    assert.equal(branchOf(`user-${u}`), first.get(`user-${u}`), `user-${u} changed branch`);
  }
  const got = counts(10_000, (u) => first.get(`user-${u}`)!, 2);
  assertShares(got, [0.9, 0.1], 0.01, "10,000 distinct users");
  // Without the header (or with it empty), the pick is the random weighted one.
  const random = counts(10_000, () => route.pickBranch(["x-other", "1"], rng).index, 2);
  assertShares(random, [0.9, 0.1], 0.01, "without the header");
  assert.equal(route.pickBranch(["x-user", ""], () => 0.99).index, 1);
  assert.equal(route.pickBranch(["x-user", ""], () => 0).index, 0);
  assert.equal(route.pickBranch(["x-user", "u"], () => 0).setCookie, undefined);
});

Deno.test("split: a change of weights moves only the sticky users it must", () => {
  const before = compile({ weighted_clusters: CANARY, sticky: { header: "x-user" } });
  const after = compile({
    weighted_clusters: [{ ...CANARY[0], weight: 80 }, { ...CANARY[1], weight: 20 }],
    sticky: { header: "x-user" },
  });
  let moved = 0;
  for (let u = 0; u < 10_000; u++) {
    const h = ["x-user", `user-${u}`];
    const [b, a] = [
      before.pickBranch(h, Math.random).index,
      after.pickBranch(h, Math.random).index,
    ];
    if (b === a) continue;
    assert.deepEqual([b, a], [0, 1], `user-${u} moved from the canary back`);
    moved++;
  }
  // About the 10 % the canary gained, no more.
  assert.ok(moved > 900 && moved < 1_100, `${moved} of 10,000 users moved`);
});

Deno.test("split: sticky cookie is set on a pick and honoured when valid", () => {
  const route = compile({
    weighted_clusters: [...CANARY, { cluster: "b", weight: 0 }],
    sticky: { cookie: { name: "canary" } },
  });
  const v1 = branchId("a", { version: "v1" });
  const v2 = branchId("a", { version: "v2" });
  const b = branchId("b", undefined);
  // No cookie: a weighted pick, remembered by the response.
  const fresh = route.pickBranch([], () => 0.95);
  assert.equal(fresh.index, 1);
  assert.equal(fresh.setCookie, `canary=${v2}; Max-Age=3600; Path=/; HttpOnly`);
  assert.equal(
    route.pickBranch([], () => 0).setCookie,
    `canary=${v1}; Max-Age=3600; Path=/; HttpOnly`,
  );
  // A valid cookie decides, whatever the draw, and needs no new cookie.
  for (
    const cookie of [`canary=${v2}`, `a=b; canary=${v2}`, `x=1;canary=${v2};y=2`, ` canary=${v2} `]
  ) {
    const got = route.pickBranch(["cookie", cookie], () => 0);
    assert.deepEqual([got.index, got.setCookie], [1, undefined], cookie);
  }
  // HTTP/2 may send the cookies as several fields.
  const split = route.pickBranch(
    ["cookie", "a=b", "accept", "*/*", "cookie", `canary=${v2}`],
    () => 0,
  );
  assert.deepEqual([split.index, split.setCookie], [1, undefined]);
  // Not a branch (one a reload removed; weight 0; an old position number): picked again.
  for (const cookie of ["canary=zzz", `canary=${b}`, "canary=1", "canary="]) {
    const got = route.pickBranch(["cookie", cookie], () => 0.95);
    assert.deepEqual([got.index, got.setCookie?.split(";")[0]], [1, `canary=${v2}`], cookie);
  }
  // Other cookies whose names end or start like it are not it.
  for (const cookie of [`xcanary=${v2}`, `canary1=${v2}`, `canary_=${v2}`]) {
    assert.equal(
      route.pickBranch(["cookie", cookie], () => 0).setCookie?.split(";")[0],
      `canary=${v1}`,
    );
  }
});

Deno.test("split: a sticky cookie keeps its branch when a reload reorders or adds branches", () => {
  const v2 = branchId("a", { version: "v2" });
  const reordered = compile({
    weighted_clusters: [{ cluster: "c", weight: 5 }, CANARY[1], CANARY[0]],
    sticky: { cookie: { name: "canary" } },
  });
  const got = reordered.pickBranch(["cookie", `canary=${v2}`], () => 0);
  assert.deepEqual([got.cluster, got.index, got.setCookie], ["a", 1, undefined]);
  assert.notEqual(branchId("a", { version: "v1" }), v2);
  assert.equal(branchId("a", { b: "2", a: "1" }), branchId("a", { a: "1", b: "2" }));
});

Deno.test("split: cookie ttl gives Max-Age in seconds; 0s a session cookie", () => {
  const v1 = branchId("a", { version: "v1" });
  const cookie = (ttl: string) =>
    compile({ weighted_clusters: CANARY, sticky: { cookie: { name: "s", ttl } } })
      .pickBranch([], () => 0).setCookie;
  assert.equal(cookie("90s"), `s=${v1}; Max-Age=90; Path=/; HttpOnly`);
  assert.equal(cookie("1500ms"), `s=${v1}; Max-Age=2; Path=/; HttpOnly`);
  assert.equal(cookie("0s"), `s=${v1}; Path=/; HttpOnly`);
});

Deno.test("split: cookie picks split 90/10 over 10,000 new users", () => {
  const route = compile({ weighted_clusters: CANARY, sticky: { cookie: { name: "c" } } });
  const rng = seededRng(8);
  const got = counts(10_000, () => route.pickBranch([], rng).index, 2);
  assertShares(got, [0.9, 0.1], 0.01, "new users");
});

Deno.test("split: a route with one branch ignores sticky (a fallback cluster route)", () => {
  const route = compile({
    weighted_clusters: [{ cluster: "a", weight: 1 }],
    sticky: { cookie: { name: "c" } },
  });
  const b = route.pickBranch([], () => assert.fail("rng used"));
  assert.deepEqual([b.cluster, b.subset, b.setCookie], ["a", undefined, undefined]);
});

Deno.test("cookieValue finds a cookie among others, in any cookie field", () => {
  assert.equal(cookieValue(["cookie", "a=1; b=2"], "b"), "2");
  assert.equal(cookieValue(["cookie", "a=1", "cookie", "b=2"], "b"), "2");
  assert.equal(cookieValue(["cookie", "ab=1"], "b"), undefined);
  assert.equal(cookieValue(["x-cookie", "b=1"], "b"), undefined);
  assert.equal(cookieValue(["cookie", "b"], "b"), undefined);
  assert.equal(cookieValue([], "b"), undefined);
});
