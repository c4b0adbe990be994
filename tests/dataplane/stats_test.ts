import assert from "node:assert/strict";
import type { ClusterRuntime } from "../../src/dataplane/cluster.ts";
import { DataplaneStats } from "../../src/dataplane/stats.ts";
import { MetricsRegistry, offAccessLog, renderPrometheus } from "../../src/telemetry/mod.ts";

Deno.test("cluster series are read from the clusters, and a scrape changes nothing", () => {
  const registry = new MetricsRegistry();
  const stats = new DataplaneStats(registry, offAccessLog);
  const counters = stats.clusterCounters("c");
  const pools = new Map([["h1", { open: 3 }], ["h2", { open: 1 }]]);
  const cluster = {
    name: "c",
    active: 2,
    counters,
    hosts: [{ key: "h1" }, { key: "h2" }, { key: "h3" }],
    existingPool: (h: { key: string }) => pools.get(h.key),
  } as unknown as ClusterRuntime;
  stats.watchClusters(registry, () => [cluster]);
  const lines = () => renderPrometheus(registry).split("\n");

  assert.ok(lines().includes('skiff_retries_total{cluster="c"} 0'), "series start at zero");
  counters.retries.inc();
  counters.retries.inc();
  counters.retryBudgetExhausted.inc();
  const first = lines();
  for (
    const line of [
      'skiff_retries_total{cluster="c"} 2',
      'skiff_retry_budget_exhausted_total{cluster="c"} 1',
      'skiff_upstream_requests_active{cluster="c"} 2',
      'skiff_upstream_connections_active{cluster="c"} 4',
      "skiff_clusters 1",
    ]
  ) {
    assert.ok(first.includes(line), line);
  }
  assert.deepEqual(lines(), first, "a second scrape reads the same values");
  assert.equal(counters.retries.value, 2);
});
