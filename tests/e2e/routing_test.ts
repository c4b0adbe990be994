// End-to-end: route matching as a client sees it — each route sends to its own upstream,
// which answers with its name.
import assert from "node:assert/strict";
import { startHttpUpstream, startSidecar, type TestServer } from "../_harness/mod.ts";
import { curl, parseCurlHeaders } from "./_curl_cli.ts";

/** Starts one named upstream per cluster name; closes them all on dispose. */
function upstreams(names: string[]): Map<string, TestServer> & AsyncDisposable {
  const map = new Map(names.map((n) => [n, startHttpUpstream(n)]));
  return Object.assign(map, {
    [Symbol.asyncDispose]: async () =>
      void (await Promise.all([...map.values()].map((u) => u.close()))),
  });
}

function clustersYaml(ups: Map<string, TestServer>): string {
  return [...ups].map(([name, u]) =>
    `  - name: ${name}\n    endpoints: [{ address: "127.0.0.1:${u.port}" }]`
  ).join("\n");
}

/** A request as curl sends it: the method, extra header lines and an optional body. */
interface Req {
  method?: string;
  headers?: string[];
  body?: string;
}

/** Sends a request with curl; returns status, body (the answering upstream's name), headers. */
async function send(
  url: string,
  req: Req = {},
): Promise<{ status: number; body: string; headers: Map<string, string> }> {
  const args = ["-D", "/dev/stderr", "-X", req.method ?? "GET"];
  for (const h of req.headers ?? []) args.push("-H", h);
  if (req.body !== undefined) args.push("--data-binary", req.body);
  const r = await curl([...args, url]);
  if (r.code !== 0) throw new Error(`curl failed: ${r.stderr}`);
  const head = parseCurlHeaders(r.stderr);
  return {
    status: Number(head.status.split(" ")[1]),
    body: new TextDecoder().decode(r.stdout),
    headers: new Map(head.fields),
  };
}

Deno.test("routing: path, prefix, regex, authority, methods and headers pick the route", async () => {
  await using ups = upstreams([
    "exact",
    "rewrite",
    "regex",
    "host",
    "wild",
    "writes",
    "hdr_exact",
    "hdr_prefix",
    "hdr_regex",
    "hdr_present",
    "hdr_absent",
    "first",
    "second",
  ]);
  await using s = await startSidecar(`
listeners:
  - name: web
    address: 127.0.0.1:0
    routes:
      - { match: { path: /exact }, cluster: exact }
      - { match: { prefix: /api/ }, prefix_rewrite: /v1/, cluster: rewrite }
      - { match: { regex: "^/items/[0-9]+$" }, cluster: regex }
      - { match: { authority: shop.example, prefix: /h }, cluster: host }
      - { match: { authority: "*.wild.example", prefix: /h }, cluster: wild }
      - { match: { prefix: /m, methods: [POST, PUT] }, cluster: writes }
      - match: { prefix: /hdr, headers: [{ name: x-env, exact: prod }] }
        cluster: hdr_exact
      - match: { prefix: /hdr, headers: [{ name: x-env, prefix: stag }] }
        cluster: hdr_prefix
      - match: { prefix: /hdr, headers: [{ name: x-env, regex: "^dev-[0-9]+$" }] }
        cluster: hdr_regex
      - match: { prefix: /hdr, headers: [{ name: x-debug, present: true }] }
        cluster: hdr_present
      - match: { prefix: /hdr, headers: [{ name: x-env, present: true, invert: true }] }
        cluster: hdr_absent
      - { match: { prefix: /first }, cluster: first }
      - { match: { prefix: /first/more }, cluster: second }
clusters:
${clustersYaml(ups)}
`);
  const base = s.url("web");
  const cases: [string, Req, string | number][] = [
    ["/exact", {}, "exact"],
    ["/exact/not", {}, 404], // path is exact, not a prefix
    ["/exact?query=1", {}, "exact"], // the query is not part of the path
    ["/api/users?id=3", {}, "rewrite"],
    ["/items/42", {}, "regex"],
    ["/items/42x", {}, 404], // the regex must match the whole path
    ["/h", { headers: ["host: shop.example"] }, "host"],
    ["/h", { headers: ["host: SHOP.example:8080"] }, "host"], // case and port ignored
    ["/h", { headers: ["host: a.wild.example"] }, "wild"],
    ["/h", { headers: ["host: a.b.wild.example"] }, "wild"],
    ["/h", { headers: ["host: wild.example"] }, 404], // the wildcard needs a label
    ["/h", { headers: ["host: other.example"] }, 404],
    ["/m", { method: "POST", body: "x" }, "writes"],
    ["/m", { method: "PUT", body: "x" }, "writes"],
    ["/m", { method: "GET" }, 404],
    ["/hdr", { headers: ["x-env: prod"] }, "hdr_exact"],
    ["/hdr", { headers: ["x-env: production"] }, 404], // exact is exact
    ["/hdr", { headers: ["x-env: staging"] }, "hdr_prefix"],
    ["/hdr", { headers: ["x-env: dev-12"] }, "hdr_regex"],
    ["/hdr", { headers: ["x-env: dev-12b"] }, 404],
    ["/hdr", { headers: ["x-env: qa", "x-debug: on"] }, "hdr_present"],
    ["/hdr", {}, "hdr_absent"], // x-env absent: the inverted present match
    ["/first/more", {}, "first"], // first match wins over the more specific route below
  ];
  for (const [path, init, want] of cases) {
    const r = await send(base + path, init);
    const label = `${init.method ?? "GET"} ${path} ${JSON.stringify(init.headers ?? [])}`;
    if (typeof want === "number") {
      assert.equal(r.status, want, `${label}: ${r.body}`);
      assert.equal(r.headers.get("x-skiff-error"), "no_route", label);
    } else {
      assert.equal(r.status, 200, `${label}: ${r.body}`);
      assert.equal(r.body, want, label);
    }
  }
  assert.equal(ups.get("second")!.requests.length, 0);
  // prefix_rewrite replaced the matched prefix and kept the rest and the query.
  assert.equal(new URL(ups.get("rewrite")!.requests[0].url).pathname, "/v1/users");
  assert.equal(new URL(ups.get("rewrite")!.requests[0].url).search, "?id=3");
});

Deno.test("routing: request and response headers are added and removed per route", async () => {
  await using up = startHttpUpstream("app", () =>
    new Response("ok", {
      headers: { server: "upstream/1.0", "x-internal": "secret", "cache-control": "max-age=60" },
    }));
  await using s = await startSidecar(`
listeners:
  - name: web
    address: 127.0.0.1:0
    routes:
      - match: { prefix: /edit }
        cluster: app
        request_headers_to_add:
          - { name: x-skiff-route, value: edit }
          - { name: x-tag, value: added, append: true }
          - { name: x-mode, value: forced }
        request_headers_to_remove: [x-debug, cookie]
        response_headers_to_add:
          - { name: cache-control, value: no-store }
          - { name: x-served-by, value: skiff }
        response_headers_to_remove: [server, x-internal]
      - cluster: app
clusters:
  - name: app
    endpoints: [{ address: "127.0.0.1:${up.port}" }]
`);
  const r = await curl([
    "-D",
    "-",
    "-o",
    "/dev/null",
    "-H",
    "x-debug: 1",
    "-H",
    "cookie: a=b",
    "-H",
    "x-tag: original",
    "-H",
    "x-mode: client",
    "-H",
    "x-keep: yes",
    `${s.url("web")}/edit`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const seen = up.requests[0].headers;
  assert.equal(seen.get("x-skiff-route"), "edit");
  assert.equal(seen.get("x-tag"), "original, added"); // appended to the client's value
  assert.equal(seen.get("x-mode"), "forced"); // replaced
  assert.equal(seen.get("x-debug"), null);
  assert.equal(seen.get("cookie"), null);
  assert.equal(seen.get("x-keep"), "yes");
  const res = new Map<string, string[]>();
  for (const [k, v] of parseCurlHeaders(new TextDecoder().decode(r.stdout)).fields) {
    res.set(k, [...(res.get(k) ?? []), v]);
  }
  assert.deepEqual(res.get("cache-control"), ["no-store"]); // replaced, not duplicated
  assert.deepEqual(res.get("x-served-by"), ["skiff"]);
  assert.equal(res.get("server"), undefined);
  assert.equal(res.get("x-internal"), undefined);

  // The other route does not touch headers.
  await curl(["-o", "/dev/null", "-H", "x-debug: 1", `${s.url("web")}/plain`]);
  assert.equal(up.requests[1].headers.get("x-debug"), "1");
  assert.equal(up.requests[1].headers.get("x-skiff-route"), null);
});

Deno.test("routing: weighted_clusters split traffic by weight", async () => {
  await using ups = upstreams(["light", "heavy"]);
  await using s = await startSidecar(`
listeners:
  - name: web
    address: 127.0.0.1:0
    routes:
      - weighted_clusters:
          - { cluster: light, weight: 1 }
          - { cluster: heavy, weight: 9 }
clusters:
${clustersYaml(ups)}
`);
  const N = 400;
  const counts = new Map<string, number>();
  for (let i = 0; i < N; i++) {
    const res = await fetch(`${s.url("web")}/w${i}`);
    const body = await res.text();
    assert.equal(res.status, 200, body);
    counts.set(body, (counts.get(body) ?? 0) + 1);
  }
  const light = counts.get("light") ?? 0;
  const heavy = counts.get("heavy") ?? 0;
  assert.equal(light + heavy, N);
  // Expected 40 / 360; these bounds are many standard deviations wide.
  assert.ok(light >= 1, `light got ${light}`);
  assert.ok(heavy >= N * 0.6, `heavy got ${heavy} of ${N}`);
  assert.equal(ups.get("light")!.requests.length, light);
});
