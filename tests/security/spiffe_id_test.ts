import assert from "node:assert/strict";
import {
  compileMatcher,
  matches,
  SpiffeId,
  spiffeIdProblem,
  type SpiffeMatcher,
} from "../../src/security/mod.ts";

Deno.test("valid SPIFFE IDs parse into trust domain and path", () => {
  const table: [string, string, string][] = [
    ["spiffe://example.org", "example.org", ""],
    ["spiffe://example.org/ns/prod/sa/web", "example.org", "/ns/prod/sa/web"],
    ["spiffe://a-b_c.9/x.y-Z_0", "a-b_c.9", "/x.y-Z_0"],
    ["spiffe://td/...x/.a/a.", "td", "/...x/.a/a."],
  ];
  for (const [text, td, path] of table) {
    const id = SpiffeId.parse(text);
    assert.equal(id.trustDomain, td, text);
    assert.equal(id.path, path, text);
    assert.equal(id.toString(), text);
    assert.equal(JSON.stringify({ id }), JSON.stringify({ id: text }));
  }
});

Deno.test("invalid SPIFFE IDs are rejected with the rule they break", () => {
  const table: [string, RegExp][] = [
    ["", /empty/],
    ["SPIFFE://example.org/a", /scheme/],
    ["spiffe:/example.org/a", /scheme/],
    ["https://example.org/a", /scheme/],
    ["spiffe://", /trust domain is missing/],
    ["spiffe:///path", /trust domain is missing/],
    ["spiffe://Example.org/a", /trust domain "Example.org" may only contain/],
    ["spiffe://example.org:8080/a", /trust domain "example.org:8080"/],
    ["spiffe://user@example.org/a", /trust domain "user@example.org"/],
    ["spiffe://example.org/", /must not end with a slash/],
    ["spiffe://example.org/a/", /must not end with a slash/],
    ["spiffe://example.org//a", /empty segments/],
    ["spiffe://example.org/a/./b", /"\." or "\.\." segments/],
    ["spiffe://example.org/a/..", /"\." or "\.\." segments/],
    ["spiffe://example.org/a b", /segment "a b" may only contain/],
    ["spiffe://example.org/a%20b", /segment "a%20b"/],
    ["spiffe://example.org/a?q=1", /segment "a\?q=1"/],
    ["spiffe://example.org/a#frag", /segment "a#frag"/],
    ["spiffe://example.org/é", /segment "é"/],
    [`spiffe://example.org/${"a".repeat(2048)}`, /longer than 2048 bytes/],
    [`spiffe://${"a".repeat(256)}/x`, /longer than 255 bytes/],
  ];
  for (const [text, problem] of table) {
    assert.match(spiffeIdProblem(text) ?? "(valid)", problem, text);
    assert.throws(() => SpiffeId.parse(text), TypeError, text);
    assert.equal(SpiffeId.tryParse(text), undefined, text);
  }
});

Deno.test("an ID of exactly 2048 bytes is valid, one more byte is not", () => {
  const prefix = "spiffe://example.org/";
  const longest = prefix + "a".repeat(2048 - prefix.length);
  assert.equal(spiffeIdProblem(longest), undefined);
  assert.match(spiffeIdProblem(longest + "a") ?? "", /longer than 2048/);
});

Deno.test("SpiffeId.of joins segments and validates them", () => {
  assert.equal(SpiffeId.of("example.org", "ns", "prod").toString(), "spiffe://example.org/ns/prod");
  assert.throws(() => SpiffeId.of("example.org", "a/"), TypeError);
  assert.ok(SpiffeId.of("td", "a").equals(SpiffeId.parse("spiffe://td/a")));
  assert.ok(!SpiffeId.of("td", "a").equals(SpiffeId.parse("spiffe://td/b")));
});

Deno.test("matchers: exact, segment-aware prefix, trust domain, any", () => {
  const id = (s: string) => SpiffeId.parse(`spiffe://${s}`);
  const table: [SpiffeMatcher, string, boolean][] = [
    [{ exact: "spiffe://example.org/ns/prod/sa/web" }, "example.org/ns/prod/sa/web", true],
    [{ exact: "spiffe://example.org/ns/prod/sa/web" }, "example.org/ns/prod/sa/web2", false],
    [{ exact: "spiffe://example.org/ns/prod/sa/web" }, "other.org/ns/prod/sa/web", false],
    [{ prefix: "spiffe://example.org/ns/prod" }, "example.org/ns/prod", true],
    [{ prefix: "spiffe://example.org/ns/prod" }, "example.org/ns/prod/sa/x", true],
    [{ prefix: "spiffe://example.org/ns/prod" }, "example.org/ns/production", false],
    [{ prefix: "spiffe://example.org/ns/prod" }, "example.org/ns", false],
    [{ prefix: "spiffe://example.org/ns/prod" }, "example.com/ns/prod/sa/x", false],
    [{ prefix: "spiffe://example.org" }, "example.org/anything/at/all", true],
    [{ prefix: "spiffe://example.org" }, "example.org", true],
    [{ prefix: "spiffe://example.org" }, "example.org.evil/x", false],
    [{ trust_domain: "example.org" }, "example.org/a", true],
    [{ trust_domain: "example.org" }, "example.org.evil/a", false],
    [{ any: true }, "whatever/x", true],
  ];
  for (const [m, text, want] of table) {
    assert.equal(matches(m, id(text)), want, `${JSON.stringify(m)} vs ${text}`);
    assert.equal(compileMatcher(m)(id(text)), want, `${JSON.stringify(m)} vs ${text}`);
  }
});

Deno.test("invalid matchers are rejected when compiled", () => {
  const bad: unknown[] = [
    {},
    { exact: "spiffe://example.org/a", prefix: "spiffe://example.org" },
    { exact: "spiffe://example.org/a/" },
    { prefix: "http://example.org" },
    { trust_domain: "Example.org" },
    { any: false },
    { regex: ".*" },
  ];
  for (const m of bad) {
    assert.throws(() => compileMatcher(m as SpiffeMatcher), TypeError, JSON.stringify(m));
  }
});
