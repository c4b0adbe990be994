import assert from "node:assert/strict";
import { WeightedSampler } from "../../../src/dataplane/balance/_weighted_sampler.ts";
import { makeHosts } from "./conformance.ts";

/** An "Rng" that walks a fine grid of [0, 1), so counts are exact shares. */
function grid(steps: number) {
  let k = 0;
  return () => (k++ % steps + 0.5) / steps;
}

Deno.test("WeightedSampler draws each index in exact proportion to its weight", () => {
  const table = [[1], [1, 1, 1], [1, 3], [5, 1, 1], [1, 2, 7, 0.5], [1, 1_000_000], [3, 3, 1]];
  const steps = 1 << 20;
  for (const weights of table) {
    const sampler = new WeightedSampler();
    sampler.reset(weights);
    const rng = grid(steps);
    const counts = new Array(weights.length).fill(0);
    for (let i = 0; i < steps; i++) counts[sampler.sample(rng)]++;
    const total = weights.reduce((a, b) => a + b);
    weights.forEach((w, i) => {
      assert.ok(
        Math.abs(counts[i] / steps - w / total) < 1e-5,
        `${JSON.stringify(weights)}: index ${i} drawn ${counts[i] / steps}, want ${w / total}`,
      );
    });
  }
});

Deno.test("WeightedSampler.sampleOther never returns the excluded index for equal weights", () => {
  const sampler = new WeightedSampler();
  sampler.reset([2, 2, 2, 2]);
  const rng = grid(300);
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 3000; i++) counts[sampler.sampleOther(rng, 2)]++;
  assert.deepEqual(counts, [1000, 1000, 0, 1000]);
});

Deno.test("WeightedSampler.sampleAllowed draws by weight among allowed hosts only", () => {
  const weights = [1, 3, 6, 10];
  const hosts = makeHosts(weights);
  const sampler = new WeightedSampler();
  sampler.reset(weights);
  const rng = grid(1000);
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 1000; i++) {
    counts[sampler.sampleAllowed(rng, hosts, new Set([hosts[3]]), 2)]++;
  }
  assert.deepEqual(counts, [250, 750, 0, 0]);
  assert.equal(sampler.sampleAllowed(rng, hosts, new Set(hosts), -1), -1);
});
