import assert from "node:assert/strict";
import { seededRng } from "../../../src/core/mod.ts";
import {
  createLoadBalancer,
  LeastRequestBalancer,
  type LoadBalancerPolicy,
  PeakEwmaBalancer,
  RingHashBalancer,
  RoundRobinBalancer,
} from "../../../src/dataplane/balance/mod.ts";

Deno.test("createLoadBalancer builds the balancer each policy names", () => {
  const deps = { rng: seededRng(1) };
  const table: [LoadBalancerPolicy, unknown][] = [
    ["round_robin", RoundRobinBalancer],
    ["least_request", LeastRequestBalancer],
    ["peak_ewma", PeakEwmaBalancer],
    ["ring_hash", RingHashBalancer],
  ];
  for (const [policy, type] of table) {
    assert.ok(createLoadBalancer(policy, deps) instanceof (type as typeof RoundRobinBalancer));
  }
});

Deno.test("createLoadBalancer rejects an unknown policy", () => {
  const deps = { rng: seededRng(1) };
  assert.throws(
    () => createLoadBalancer("random" as LoadBalancerPolicy, deps),
    { name: "TypeError", message: /"random".*round_robin/ },
  );
});
