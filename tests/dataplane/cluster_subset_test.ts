// A route's subset of a cluster (`weighted_clusters[].subset`) is balanced over only the
// endpoints whose labels include the subset's, and follows what the cluster's own balancer
// follows: discovery updates, outlier ejections and health checks.
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { seededRng, VirtualClock } from "../../src/core/mod.ts";
import { EndpointSubset } from "../../src/dataplane/balance/mod.ts";
import { ClusterRuntime } from "../../src/dataplane/cluster.ts";
import type { Probe } from "../../src/dataplane/health/mod.ts";
import { DataplaneStats } from "../../src/dataplane/stats.ts";
import { type EndpointSpec, StaticResolver } from "../../src/discovery/mod.ts";
import { MetricsRegistry, offAccessLog } from "../../src/telemetry/mod.ts";
import { waitFor } from "../_harness/mod.ts";

const V1 = new EndpointSubset({ version: "v1" });
const V2 = new EndpointSubset({ version: "v2" });

/** Endpoint 127.0.0.1:`port` with labels. */
function ep(port: number, labels: Record<string, string>): EndpointSpec {
  return { address: { hostname: "127.0.0.1", port }, labels };
}

/** Cluster `app` (with `extra` YAML keys) over `endpoints`, probed by `probe`. */
function cluster(endpoints: EndpointSpec[], extra = "", probe?: Probe) {
  const clock = new VirtualClock(0);
  const config = parseConfig(
    `
listeners: [{ name: web, address: "127.0.0.1:0", routes: [{ cluster: app }] }]
clusters:
  - name: app
${extra}
`,
    "t.yaml",
  ).clusters[0];
  const resolver = new StaticResolver(endpoints);
  const counters = new DataplaneStats(new MetricsRegistry(), offAccessLog).clusterCounters("app");
  const runtime = new ClusterRuntime(config, resolver, {
    rng: seededRng(3),
    clock,
    pools: () => {
      throw new Error("no pools in this test");
    },
    counters,
    probe,
  });
  return {
    clock,
    resolver,
    counters,
    runtime,
    /** The distinct hosts 40 picks from `subset` return (sorted ports; [] when none). */
    picked(subset?: EndpointSubset): number[] {
      const seen = new Set<number>();
      for (let i = 0; i < 40; i++) {
        const h = runtime.pick(undefined, undefined, subset);
        if (h) seen.add(h.endpoint.address.port);
      }
      return [...seen].sort();
    },
  };
}

const THREE = [
  ep(1001, { version: "v1", zone: "a" }),
  ep(1002, { version: "v1", zone: "b" }),
  ep(1003, { version: "v2", zone: "a" }),
];

Deno.test("EndpointSubset matches endpoints whose labels include all of its own", () => {
  const s = new EndpointSubset({ zone: "a", version: "v1" });
  assert.equal(s.matches({ version: "v1", zone: "a", extra: "x" }), true);
  assert.equal(s.matches({ version: "v1" }), false);
  assert.equal(s.matches({ version: "v1", zone: "b" }), false);
  assert.equal(s.matches({}), false);
  assert.equal(new EndpointSubset({ toString: "x" }).matches({}), false, "own labels only");
  assert.equal(s.key, new EndpointSubset({ version: "v1", zone: "a" }).key, "order-free key");
  assert.notEqual(s.key, V1.key);
  assert.equal(String(s), "version=v1,zone=a");
  assert.throws(() => new EndpointSubset({}), RangeError);
});

Deno.test("cluster: a subset's picks go only to its endpoints; the whole cluster to all", () => {
  const c = cluster(THREE);
  assert.deepEqual(c.picked(V1), [1001, 1002]);
  assert.deepEqual(c.picked(V2), [1003]);
  assert.deepEqual(c.picked(new EndpointSubset({ zone: "a" })), [1001, 1003]);
  assert.deepEqual(c.picked(), [1001, 1002, 1003]);
  assert.deepEqual(c.picked(new EndpointSubset({ version: "v3" })), [], "no endpoint: none");
  // Another object with the same labels shares the subset's balancer.
  assert.deepEqual(c.picked(new EndpointSubset({ version: "v2" })), [1003]);
  c.runtime.close();
});

Deno.test("cluster: a subset in use follows discovery updates", () => {
  const c = cluster(THREE);
  assert.deepEqual(c.picked(V2), [1003]);
  const v3 = new EndpointSubset({ version: "v3" });
  assert.deepEqual(c.picked(v3), []);
  // 1002 moves to v2, a v3 endpoint appears, 1003 leaves.
  c.resolver.replace([
    THREE[0],
    ep(1002, { version: "v2" }),
    ep(1004, { version: "v3" }),
  ]);
  assert.deepEqual(c.picked(V2), [1002]);
  assert.deepEqual(c.picked(V1), [1001]);
  assert.deepEqual(c.picked(v3), [1004]);
  c.resolver.replace([THREE[0]]);
  assert.deepEqual(c.picked(V2), []);
  c.runtime.close();
});

Deno.test("cluster: ejected endpoints leave their subsets; a subset all ejected panics alone", () => {
  const c = cluster(
    THREE,
    "    outlier_detection: { consecutive_5xx: 1, interval: 1s, base_ejection_time: 2s, " +
      "max_ejection_percent: 100 }",
  );
  assert.deepEqual(c.picked(V1), [1001, 1002]);
  const host = (port: number) => c.runtime.hosts.find((h) => h.endpoint.address.port === port)!;
  c.runtime.observe(host(1001), { status: 500 });
  assert.deepEqual(c.picked(V1), [1002]);
  assert.deepEqual(c.picked(), [1002, 1003]);
  c.runtime.observe(host(1003), { status: 503 });
  // v2's only endpoint is ejected: the subset balances over all of its own endpoints (as a
  // cluster does when none is left), while the cluster still has 1002.
  assert.deepEqual(c.picked(V2), [1003]);
  assert.deepEqual(c.picked(), [1002]);
  assert.equal(c.runtime.health!.panic, false);
  c.clock.advance(2_000);
  assert.deepEqual(c.picked(V1), [1001, 1002], "back when the ejection is over");
  c.runtime.close();
});

Deno.test("cluster: an unhealthy endpoint leaves the subsets built before the check", async () => {
  const up = new Set(["127.0.0.1:1001", "127.0.0.1:1003"]);
  const probe: Probe = (e) => up.has(e.key) ? Promise.resolve() : Promise.reject(new Error("no"));
  const c = cluster(
    THREE,
    "    health_check: { type: tcp, interval: 1s, healthy_threshold: 1, unhealthy_threshold: 1 }",
    probe,
  );
  assert.deepEqual(c.picked(V1), [1001, 1002], "unchecked endpoints take traffic");
  const checks = () =>
    c.counters.healthChecks("success").value + c.counters.healthChecks("failure").value;
  await waitFor("the first round of checks", () => checks() >= 3);
  assert.deepEqual(c.picked(V1), [1001]);
  up.add("127.0.0.1:1002");
  c.clock.advance(1_000);
  await waitFor("the second round of checks", () => checks() >= 6);
  assert.deepEqual(c.picked(V1), [1001, 1002]);
  c.runtime.close();
});
