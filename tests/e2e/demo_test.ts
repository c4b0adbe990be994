// The main job a newcomer runs (`deno task demo`): two upstreams and skiff on the embedded
// default config, traffic for a few seconds, v2 stopped half-way — and every request answered
// 200 thanks to skiff's retries, v2 ejected by outlier detection. The demo exits 1 when any
// request failed.
import assert from "node:assert/strict";
import { spawnSkiff, within } from "../_harness/mod.ts";

Deno.test("demo: every request succeeds, though v2 stops half-way", async () => {
  await using demo = await spawnSkiff(["demo", "--seconds", "3"]);
  const code = await within(`the demo to end; stderr:\n${demo.stderr()}`, demo.wait(), 60_000);
  const out = demo.stdout();
  assert.equal(code, 0, out + demo.stderr());
  assert.match(out, /statuses\s+200: \d+\n/, out);
  assert.match(out, /v2 stopped/, "v2 was stopped half-way");
  assert.match(out, /answered\s+v1: \d+ \([\d.]+ %\)\s+v2: \d+/, out);
  assert.match(out, /ejected 127\.0\.0\.1:10002 /, `v2 was ejected:\n${out}`);
  // Not a terminal: a progress line of its own each second, never rewritten in place.
  assert.ok(!out.includes("\r"), "no carriage returns in piped output");
  assert.match(out, /\n {2}1\.0 s {2}\d+ requests/, out);
});
