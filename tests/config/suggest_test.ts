import assert from "node:assert/strict";
import fc from "fast-check";
import { editDistance, suggest } from "../../src/config/suggest.ts";

Deno.test("editDistance counts insertions, deletions, substitutions and swaps", () => {
  const table: [string, string, number][] = [
    ["", "", 0],
    ["", "abc", 3],
    ["abc", "", 3],
    ["retry", "retry", 0],
    ["retry", "rerty", 1], // swap
    ["retry", "retr", 1], // deletion
    ["retry", "retrys", 1], // insertion
    ["retry", "retra", 1], // substitution
    ["kitten", "sitting", 3],
    ["ca", "abc", 3], // optimal string alignment: no edit of a swapped pair
    ["retires", "retry", 3],
  ];
  for (const [a, b, d] of table) assert.equal(editDistance(a, b), d, `${a} -> ${b}`);
});

Deno.test("editDistance is symmetric and bounded by the longer length", () => {
  fc.assert(fc.property(fc.string(), fc.string(), (a, b) => {
    const d = editDistance(a, b);
    assert.equal(d, editDistance(b, a));
    assert.ok(d <= Math.max(a.length, b.length));
    assert.ok(d >= Math.abs(a.length - b.length));
    assert.equal(d === 0, a === b);
  }));
});

Deno.test("suggest offers the closest plausible candidate", () => {
  const routeKeys = ["name", "match", "cluster", "weighted_clusters", "timeout", "retry"];
  assert.equal(suggest("retires", routeKeys), "retry");
  assert.equal(suggest("clustre", routeKeys), "cluster");
  assert.equal(suggest("weighted_cluster", routeKeys), "weighted_clusters");
  assert.equal(suggest("timeuot", routeKeys), "timeout");
  assert.equal(suggest("cluster", ["listeners", "clusters"]), "clusters");
  assert.equal(suggest("roundrobin", ["round_robin", "ring_hash"]), "round_robin");
});

Deno.test("suggest ignores case but not a perfect match", () => {
  assert.equal(suggest("get", ["GET", "PUT"]), "GET");
  assert.equal(suggest("GET", ["GET"]), undefined);
});

Deno.test("suggest offers nothing when no candidate is close", () => {
  assert.equal(suggest("frobnicate", ["admin", "access_log", "listeners", "clusters"]), undefined);
  assert.equal(suggest("x", ["tcp", "http"]), undefined);
  assert.equal(suggest("ab", ["cd"]), undefined);
  assert.equal(suggest("anything", []), undefined);
});

Deno.test("suggest prefers the nearer of two candidates, then the earlier", () => {
  assert.equal(suggest("demo1", ["demo", "demo12"]), "demo");
  assert.equal(suggest("demo3", ["demo1", "demo2"]), "demo1");
});
