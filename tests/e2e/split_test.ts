// Traffic split across endpoint subsets through a real sidecar: a 90/10 canary by label, sticky
// users by header and cookie, and weights changed by reload under load without a lost request.
// Request counts are bounded and bounds are generous (over 4 standard deviations), so the
// tests do not flake.
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { branchId } from "../../src/dataplane/http/traffic_split.ts";
import { startHttpUpstream, startSidecar, type TestServer } from "../_harness/mod.ts";

const TEST_OPTS = { sanitizeOps: false, sanitizeResources: false };

/** Three upstreams answering their names: two labelled version v1, one v2. */
function upstreams(): TestServer[] {
  return ["v1a", "v1b", "v2"].map((name) => startHttpUpstream(name));
}

/**
 * Listener `web`: `/only-v1` goes to subset v1 alone, `/v3` to subset v3 of a cluster without
 * endpoints (with a static fallback under `/v3/fb`), everything else is split v1 `w1` /
 * v2 `w2`, with `sticky` when given.
 */
function config(ups: TestServer[], w1: number, w2: number, sticky = ""): string {
  const [a, b, c] = ups.map((u) => u.port);
  return `
listeners:
  - name: web
    address: 127.0.0.1:0
    routes:
      - match: { prefix: /only-v1 }
        weighted_clusters: [{ cluster: api, subset: { version: v1 }, weight: 1 }]
      - match: { prefix: /v3/fb }
        weighted_clusters: [{ cluster: empty, subset: { version: v3 }, weight: 1 }]
        fallback: { response: { status: 200, body: fallback } }
      - match: { prefix: /v3 }
        weighted_clusters: [{ cluster: empty, subset: { version: v3 }, weight: 1 }]
      - name: split
        weighted_clusters:
          - { cluster: api, subset: { version: v1 }, weight: ${w1} }
          - { cluster: api, subset: { version: v2 }, weight: ${w2} }
${sticky ? `        sticky: ${sticky}` : ""}
clusters:
  - name: api
    endpoints:
      - { address: "127.0.0.1:${a}", labels: { version: v1, app: api } }
      - { address: "127.0.0.1:${b}", labels: { version: v1, app: api } }
      - { address: "127.0.0.1:${c}", labels: { version: v2, app: api } }
  - name: empty
`;
}

/** Sends `n` GETs to `path` from `concurrency` clients; returns the answering upstreams. */
async function load(
  url: string,
  n: number,
  concurrency = 10,
  headers: (i: number) => Record<string, string> = () => ({}),
): Promise<string[]> {
  const out: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const res = await fetch(url, { headers: headers(i) });
      const body = await res.text();
      assert.equal(res.status, 200, body);
      out[i] = body;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

function count(names: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) out[n] = (out[n] ?? 0) + 1;
  return out;
}

Deno.test("split e2e: a 90/10 split by version label over 1,000 requests", TEST_OPTS, async () => {
  const ups = upstreams();
  try {
    await using s = await startSidecar(config(ups, 90, 10));
    const got = count(await load(s.url("web") + "/x", 1_000));
    console.log("split 90/10 over 1,000 requests:", JSON.stringify(got));
    // v2: 10 % ± 4 points (σ ≈ 0.95 point).
    assert.ok(got.v2 >= 60 && got.v2 <= 140, JSON.stringify(got));
    // The v1 endpoints share the rest, and only they.
    assert.equal(got.v1a + got.v1b + got.v2, 1_000);
    for (const v1 of [got.v1a, got.v1b]) {
      const share = v1 / (got.v1a + got.v1b);
      assert.ok(share > 0.35 && share < 0.65, JSON.stringify(got));
    }
    // A branch limited to v1 never reaches the v2 endpoint.
    const only = count(await load(s.url("web") + "/only-v1", 100));
    assert.equal(only.v2, undefined, JSON.stringify(only));
    assert.equal(only.v1a + only.v1b, 100);
  } finally {
    for (const u of ups) await u.close();
  }
});

Deno.test(
  "split e2e: a subset without endpoints answers no_healthy_upstream",
  TEST_OPTS,
  async () => {
    const ups = upstreams();
    try {
      await using s = await startSidecar(config(ups, 1, 1));
      const res = await fetch(s.url("web") + "/v3");
      assert.equal(res.status, 503, await res.text());
      assert.equal(res.headers.get("x-skiff-error"), "no_healthy_upstream");
      assert.equal(res.headers.get("set-cookie"), null);
      const fb = await fetch(s.url("web") + "/v3/fb");
      assert.deepEqual([fb.status, await fb.text()], [200, "fallback"]);
      // A static cluster whose listed endpoints all miss a subset is refused up front.
      const bad = config(ups, 1, 1).replace("subset: { version: v2 }", "subset: { version: v9 }");
      assert.throws(() => parseConfig(bad, "t.yaml"), /subset version=v9 matches none/);
    } finally {
      for (const u of ups) await u.close();
    }
  },
);

Deno.test("split e2e: sticky header users keep their version", TEST_OPTS, async () => {
  const ups = upstreams();
  try {
    await using s = await startSidecar(config(ups, 90, 10, "{ header: x-user }"));
    const users = 200;
    // Each user asks three times, interleaved with the others.
    const got = await load(s.url("web") + "/x", users * 3, 10, (i) => ({
      "x-user": `user-${i % users}`,
    }));
    const version = (name: string) => name.slice(0, 2);
    let v2 = 0;
    for (let u = 0; u < users; u++) {
      const seen = new Set([got[u], got[u + users], got[u + 2 * users]].map(version));
      assert.equal(seen.size, 1, `user-${u} saw ${[...seen]}`);
      if (seen.has("v2")) v2++;
    }
    // 10 % of 200 users ± 4σ (σ ≈ 4.2 users); the hash is fixed, so this never changes.
    assert.ok(v2 >= 3 && v2 <= 37, `${v2} of ${users} users on v2`);
  } finally {
    for (const u of ups) await u.close();
  }
});

Deno.test(
  "split e2e: a sticky cookie is set on the first response and honoured",
  TEST_OPTS,
  async () => {
    const ups = upstreams();
    try {
      await using s = await startSidecar(
        config(ups, 50, 50, "{ cookie: { name: canary, ttl: 10m } }"),
      );
      const url = s.url("web") + "/x";
      const first = await fetch(url);
      const answered = await first.text();
      const cookie = first.headers.get("set-cookie");
      const ids = {
        v1: branchId("api", { version: "v1" }),
        v2: branchId("api", { version: "v2" }),
      };
      const m = /^canary=([0-9a-z]+); Max-Age=600; Path=\/; HttpOnly$/.exec(cookie ?? "");
      assert.ok(m, `set-cookie: ${cookie}`);
      assert.equal(answered.startsWith("v2"), m[1] === ids.v2, `${answered} for ${cookie}`);
      // With the cookie: the same version every time, and no new cookie.
      for (const version of ["v1", "v2"] as const) {
        const seen = await load(
          url,
          40,
          4,
          () => ({ cookie: `session=abc; canary=${ids[version]}` }),
        );
        const versions = new Set(seen.map((n) => n.slice(0, 2)));
        assert.deepEqual([...versions], [version]);
      }
      const again = await fetch(url, { headers: { cookie: `canary=${ids.v2}` } });
      assert.equal(await again.text(), "v2");
      assert.equal(again.headers.get("set-cookie"), null);
      // A cookie for a branch that does not exist (a reload removed it) gets a new pick.
      const stale = await fetch(url, { headers: { cookie: "canary=7" } });
      await stale.text();
      assert.match(
        stale.headers.get("set-cookie") ?? "",
        new RegExp(`^canary=(${ids.v1}|${ids.v2});`),
      );
    } finally {
      for (const u of ups) await u.close();
    }
  },
);

Deno.test("split e2e: reloads changing weights under load lose no request", TEST_OPTS, async () => {
  const ups = upstreams();
  try {
    await using s = await startSidecar(config(ups, 90, 10));
    const reload = async (w1: number, w2: number) => {
      const out = await s.sidecar.reload(parseConfig(config(ups, w1, w2), "t.yaml"));
      assert.equal(out.ok, true, out.error ?? "");
    };
    const total = 1_500;
    const answers: string[] = [];
    let next = 0;
    let done = 0;
    let reloads: Promise<void> = Promise.resolve();
    let switched = Infinity; // requests begun from here on see the last version
    const worker = async () => {
      while (next < total) {
        const i = next++;
        const res = await fetch(s.url("web") + "/x");
        const body = await res.text();
        assert.equal(res.status, 200, `request ${i}: ${body}`);
        answers[i] = body;
        // Reloads at fixed points of progress (not of time), while the other clients send:
        // 90/10 → 50/50 → 0/100.
        if (++done === 300) reloads = reloads.then(() => reload(50, 50));
        if (done === 700) {
          reloads = reloads.then(() => reload(0, 100)).then(() => {
            switched = next;
          });
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    await reloads;
    assert.equal(done, total, "every request answered 200");
    console.log("answers across reloads:", JSON.stringify(count(answers)));
    const after = [...answers.slice(switched), ...await load(s.url("web") + "/x", 50)];
    assert.deepEqual(Object.keys(count(after)), ["v2"], JSON.stringify(count(after)));
  } finally {
    for (const u of ups) await u.close();
  }
});
