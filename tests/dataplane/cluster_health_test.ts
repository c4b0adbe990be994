// A cluster's load balancer sees only the endpoints neither ejected nor unhealthy (all of
// them when none is left), on a virtual clock with a probe the test answers.
import assert from "node:assert/strict";
import { type ClusterConfig, parseConfig } from "../../src/config/mod.ts";
import { VirtualClock } from "../../src/core/mod.ts";
import type { Host } from "../../src/dataplane/balance/mod.ts";
import { ClusterRuntime } from "../../src/dataplane/cluster.ts";
import { clusterView } from "../../src/dataplane/cluster_view.ts";
import { outlierOutcome, type Probe } from "../../src/dataplane/health/mod.ts";
import { DataplaneStats } from "../../src/dataplane/stats.ts";
import { UpstreamError } from "../../src/dataplane/upstream_error.ts";
import { StaticResolver } from "../../src/discovery/mod.ts";
import { MetricsRegistry, offAccessLog } from "../../src/telemetry/mod.ts";
import { waitFor } from "../_harness/mod.ts";

const KEYS = ["127.0.0.1:1001", "127.0.0.1:1002", "127.0.0.1:1003"];

/** Cluster `app` of three endpoints with `extra` keys (YAML flow mappings). */
function clusterConfig(extra: string): ClusterConfig {
  return parseConfig(
    `
listeners: [{ name: web, address: "127.0.0.1:0", routes: [{ cluster: app }] }]
clusters:
  - name: app
    endpoints: [${KEYS.map((k) => `{ address: "${k}" }`).join(", ")}]
${extra}
`,
    "t.yaml",
  ).clusters[0];
}

/**
 * A running cluster whose probe answers from `up` (keys whose checks pass; `undefined`:
 * checks never answer).
 */
function harness(extra: string, up: Set<string> | undefined = new Set(KEYS)) {
  const clock = new VirtualClock(0);
  const registry = new MetricsRegistry();
  const counters = new DataplaneStats(registry, offAccessLog).clusterCounters("app");
  const probe: Probe = (ep) =>
    up === undefined
      ? new Promise(() => {})
      : up.has(ep.key)
      ? Promise.resolve()
      : Promise.reject(new Error("refused"));
  const config = clusterConfig(extra);
  const resolver = new StaticResolver(config.endpoints.map((e) => ({ address: e.address })));
  const cluster = new ClusterRuntime(config, resolver, {
    rng: () => 0,
    clock,
    pools: () => {
      throw new Error("no pools in this test");
    },
    counters,
    probe,
  });
  const h = {
    clock,
    counters,
    cluster,
    resolver,
    /** The distinct hosts 30 picks return. */
    picked(): string[] {
      const seen = new Set<string>();
      for (let i = 0; i < 30; i++) seen.add(h.cluster.pick()!.key);
      return [...seen].sort();
    },
    host(key: string): Host {
      return h.cluster.hosts.find((x) => x.key === key)!;
    },
    /** Waits until `n` health checks have finished in all. */
    async checked(n: number): Promise<void> {
      const done = () =>
        (["success", "failure", "timeout"] as const)
          .reduce((sum, r) => sum + h.counters.healthChecks(r).value, 0);
      await waitFor(`${n} health checks`, () => done() >= n);
    },
    health(): string[] {
      return clusterView(h.cluster).endpoints.map((e) => e.health);
    },
  };
  return h;
}

Deno.test("cluster: an endpoint ejected by outlier detection gets no traffic until it is back", () => {
  const h = harness(`    outlier_detection:
      { consecutive_5xx: 3, interval: 1s, base_ejection_time: 2s, max_ejection_percent: 50 }`);
  assert.deepEqual(h.picked(), KEYS);
  const bad = h.host(KEYS[0]);
  for (let i = 0; i < 3; i++) h.cluster.observe(bad, { status: 500 });
  assert.deepEqual(h.picked(), KEYS.slice(1));
  assert.equal(h.counters.outlierEjections("consecutive_5xx").value, 1);
  const view = clusterView(h.cluster).endpoints[0];
  assert.deepEqual([view.ejected, view.ejections, view.health], [true, 1, "unchecked"]);
  h.clock.advance(1_999);
  assert.deepEqual(h.picked(), KEYS.slice(1), "still out before its time");
  h.clock.advance(1);
  assert.deepEqual(h.picked(), KEYS, "back at the tick when its time is over");
  assert.equal(clusterView(h.cluster).endpoints[0].ejected, false);
  h.cluster.close();
  assert.equal(h.clock.pending, 0, "close stops the interval");
});

Deno.test("cluster: failures of local origin eject; stale reuses and overflows do not count", () => {
  const h = harness(`    outlier_detection: { consecutive_local_origin_failure: 2 }`);
  const host = h.host(KEYS[1]);
  const stale = new UpstreamError("upstream_reset", "closed while idle", { staleReuse: true });
  for (let i = 0; i < 5; i++) {
    h.cluster.observe(host, stale);
    h.cluster.observe(host, new UpstreamError("overflow", "pool full"));
  }
  assert.deepEqual(h.picked(), KEYS);
  h.cluster.observe(host, new UpstreamError("connect_failure", "refused"));
  h.cluster.observe(host, new UpstreamError("upstream_timeout", "per-try timeout"));
  assert.deepEqual(h.picked(), [KEYS[0], KEYS[2]]);
  h.cluster.close();
});

Deno.test("outlierOutcome: how each attempt outcome counts", () => {
  const cases: [Parameters<typeof outlierOutcome>[0], ReturnType<typeof outlierOutcome>][] = [
    [{ status: 200 }, 200],
    [{ status: 503 }, 503],
    ["connected", "local_origin_success"],
    [new UpstreamError("connect_failure", ""), "local_origin_failure"],
    [new UpstreamError("connect_timeout", ""), "local_origin_failure"],
    [new UpstreamError("upstream_reset", ""), "local_origin_failure"],
    [new UpstreamError("upstream_timeout", ""), "local_origin_failure"],
    [new UpstreamError("upstream_identity", ""), "local_origin_failure"],
    [new UpstreamError("upstream_protocol_error", ""), 502],
    [new UpstreamError("upstream_reset", "", { staleReuse: true }), undefined],
    [new UpstreamError("overflow", ""), undefined],
  ];
  for (const [outcome, want] of cases) {
    assert.equal(outlierOutcome(outcome), want, String((outcome as Error).message ?? outcome));
  }
});

const CHECKS = `    health_check:
      { type: tcp, interval: 1s, healthy_threshold: 2, unhealthy_threshold: 1 }`;

Deno.test("cluster: an unhealthy endpoint gets no traffic until healthy_threshold checks pass", async () => {
  const up = new Set(KEYS.slice(0, 2));
  const h = harness(CHECKS, up);
  assert.deepEqual(h.health(), ["unchecked", "unchecked", "unchecked"]);
  assert.deepEqual(h.picked(), KEYS, "unchecked endpoints take traffic");
  await h.checked(3); // every endpoint is checked at once
  assert.deepEqual(h.health(), ["healthy", "healthy", "unhealthy"]);
  assert.deepEqual(h.picked(), KEYS.slice(0, 2));
  up.add(KEYS[2]);
  h.clock.advance(1_000);
  await h.checked(6);
  assert.deepEqual(h.picked(), KEYS.slice(0, 2), "one pass is not enough");
  h.clock.advance(1_000);
  await h.checked(9);
  assert.deepEqual(h.picked(), KEYS);
  assert.equal(h.counters.healthChecks("failure").value, 1);
  h.cluster.close();
  assert.equal(h.clock.pending, 0, "close stops the checks");
});

Deno.test("cluster: with no endpoint healthy, traffic goes to all of them (panic)", async () => {
  const h = harness(CHECKS, new Set());
  await h.checked(3);
  assert.deepEqual(h.health(), ["unhealthy", "unhealthy", "unhealthy"]);
  assert.equal(h.cluster.health!.panic, true);
  assert.deepEqual(h.picked(), KEYS);
  h.cluster.close();
});

Deno.test("cluster: a changed cluster takes over the health its predecessor knew", async () => {
  const old = harness(CHECKS, new Set(KEYS.slice(1)));
  await old.checked(3);
  // The new version's checks have not answered yet.
  const next = harness(CHECKS + "\n    connect_timeout: 2s", undefined);
  assert.deepEqual(next.picked(), KEYS);
  next.cluster.adoptHealth(old.cluster);
  assert.deepEqual(next.health(), ["unhealthy", "healthy", "healthy"]);
  assert.deepEqual(next.picked(), KEYS.slice(1));
  old.cluster.close();
  next.cluster.close();
  assert.equal(next.clock.pending, 0, "the checks in flight are abandoned");
});

Deno.test("cluster: endpoints discovery adds are checked, those it removes are forgotten", async () => {
  const up = new Set(KEYS.slice(0, 2));
  const h = harness(CHECKS, up);
  await h.checked(3);
  h.resolver.replace([
    { address: { hostname: "127.0.0.1", port: 1001 } },
    { address: { hostname: "127.0.0.1", port: 1004 } },
  ]);
  assert.deepEqual(h.health(), ["healthy", "unchecked"]);
  await h.checked(4);
  assert.deepEqual(h.health(), ["healthy", "unhealthy"]);
  assert.deepEqual(h.picked(), ["127.0.0.1:1001"]);
  h.cluster.close();
});
