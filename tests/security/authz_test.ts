import assert from "node:assert/strict";
import { AuthzPolicy } from "../../src/security/authz.ts";
import { SpiffeId } from "../../src/security/mod.ts";

const web = SpiffeId.parse("spiffe://shop.test/ns/prod/sa/web");
const batch = SpiffeId.parse("spiffe://shop.test/ns/prod/sa/batch");
const dev = SpiffeId.parse("spiffe://shop.test/ns/dev/sa/web");
const other = SpiffeId.parse("spiffe://other.test/ns/prod/sa/web");

const policy = new AuthzPolicy([
  { action: "deny", paths: [{ prefix: "/admin" }] },
  { from: [{ exact: web.toString() }], methods: ["GET", "post"] },
  { from: [{ prefix: "spiffe://shop.test/ns/prod" }], paths: [{ exact: "/health" }] },
  { action: "deny", from: [{ trust_domain: "other.test" }] },
  { from: [{ any: true }], paths: [{ prefix: "/public/" }] },
]);

Deno.test("AuthzPolicy: the allow/deny matrix", () => {
  const cases: [string, Parameters<AuthzPolicy["decide"]>[0], boolean, number][] = [
    ["web GET", { peer: web, method: "GET", path: "/orders" }, true, 1],
    ["web POST (methods compare upper-case)", { peer: web, method: "POST", path: "/o" }, true, 1],
    ["web DELETE", { peer: web, method: "DELETE", path: "/orders" }, false, -1],
    ["deny before allow: web GET /admin", { peer: web, method: "GET", path: "/admin/x" }, false, 0],
    ["batch /health (prefix of prod)", { peer: batch, method: "GET", path: "/health" }, true, 2],
    ["batch /healthz (exact path)", { peer: batch, method: "GET", path: "/healthz" }, false, -1],
    ["dev /health (other namespace)", { peer: dev, method: "GET", path: "/health" }, false, -1],
    ["other trust domain, public", { peer: other, method: "GET", path: "/public/a" }, false, 3],
    ["dev, public", { peer: dev, method: "GET", path: "/public/a" }, true, 4],
    ["no identity, public", { peer: undefined, method: "GET", path: "/public/a" }, false, -1],
    ["no identity, /admin", { peer: undefined, method: "GET", path: "/admin" }, false, 0],
    ["TCP (no method, no path) from web", { peer: web }, false, -1],
  ];
  for (const [what, req, allowed, rule] of cases) {
    assert.deepEqual(policy.decide(req), { allowed, rule }, what);
  }
});

Deno.test("AuthzPolicy: an empty policy denies everything; identity-only rules decide a connection", () => {
  assert.deepEqual(new AuthzPolicy([]).decide({ peer: web }), { allowed: false, rule: -1 });
  const tcp = new AuthzPolicy([{ from: [{ trust_domain: "shop.test" }] }]);
  assert.equal(tcp.decide({ peer: dev }).allowed, true);
  assert.equal(tcp.decide({ peer: other }).allowed, false);
});

Deno.test("AuthzPolicy: an invalid matcher is refused when the policy is built", () => {
  assert.throws(() => new AuthzPolicy([{ from: [{ prefix: "http://x" }] }]), TypeError);
});
