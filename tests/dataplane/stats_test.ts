import assert from "node:assert/strict";
import type { ClusterView } from "../../src/dataplane/cluster_view.ts";
import { DataplaneStats } from "../../src/dataplane/stats.ts";
import { MetricsRegistry, offAccessLog, renderPrometheus } from "../../src/telemetry/mod.ts";

Deno.test("cluster series are read from the clusters, and a scrape changes nothing", () => {
  const registry = new MetricsRegistry();
  const stats = new DataplaneStats(registry, offAccessLog);
  const counters = stats.clusterCounters("c");
  const endpoint = (
    address: string,
    open: number | null,
    health: "healthy" | "unhealthy" | "unchecked" = "unchecked",
    ejected = false,
  ) => ({
    address,
    weight: 1,
    labels: {},
    active_requests: 0,
    requests: 0,
    failures: 0,
    ewma_ms: 0,
    connections: open === null ? null : { open, idle: 0, pending: 0 },
    health,
    ejected,
    ejections: ejected ? 1 : 0,
  });
  // What DataPlane.views() reports (or the Workers' merged reports in node mode).
  const cluster = (): ClusterView => ({
    name: "c",
    lb_policy: "round_robin",
    protocol: "http1",
    active_requests: 2,
    requests: 0,
    retries: counters.retries.value,
    retry_budget_exhausted: counters.retryBudgetExhausted.value,
    endpoints: [
      endpoint("h1", 3),
      endpoint("h2", 1, "unhealthy"),
      endpoint("h3", null, "healthy", true),
      endpoint("h4", null, "healthy"),
    ],
  });
  stats.watchClusters(registry, () => [cluster()]);
  const lines = () => renderPrometheus(registry).split("\n");

  assert.ok(lines().includes('skiff_retries_total{cluster="c"} 0'), "series start at zero");
  counters.retries.inc();
  counters.retries.inc();
  counters.retryBudgetExhausted.inc();
  counters.outlierEjections("consecutive_5xx").inc();
  counters.healthChecks("timeout").inc();
  const first = lines();
  for (
    const line of [
      'skiff_retries_total{cluster="c"} 2',
      'skiff_retry_budget_exhausted_total{cluster="c"} 1',
      'skiff_upstream_requests_active{cluster="c"} 2',
      'skiff_upstream_connections_active{cluster="c"} 4',
      'skiff_endpoints_ejected{cluster="c"} 1',
      // h1 (unchecked) and h4: neither ejected nor unhealthy.
      'skiff_endpoints_healthy{cluster="c"} 2',
      'skiff_outlier_ejections_total{cluster="c",reason="consecutive_5xx"} 1',
      'skiff_health_checks_total{cluster="c",result="timeout"} 1',
      "skiff_clusters 1",
    ]
  ) {
    assert.ok(first.includes(line), line);
  }
  assert.deepEqual(lines(), first, "a second scrape reads the same values");
  assert.equal(counters.retries.value, 2);
});
