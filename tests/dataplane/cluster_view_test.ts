import assert from "node:assert/strict";
import {
  type ClusterView,
  type EndpointView,
  mergeClusterViews,
} from "../../src/dataplane/cluster_view.ts";

const ep = (
  address: string,
  requests: number,
  ewma: number,
  open?: number,
  health: Partial<Pick<EndpointView, "health" | "ejected" | "ejections">> = {},
): EndpointView => ({
  address,
  weight: 1,
  labels: {},
  active_requests: 1,
  requests,
  failures: requests > 0 ? 1 : 0,
  ewma_ms: ewma,
  connections: open === undefined ? null : { open, idle: 0, pending: 0 },
  health: "unchecked",
  ejected: false,
  ejections: 0,
  ...health,
});
const cluster = (name: string, endpoints: EndpointView[]): ClusterView => ({
  name,
  lb_policy: "round_robin",
  protocol: "http1",
  active_requests: 2,
  requests: endpoints.reduce((n, e) => n + e.requests, 0),
  retries: 7,
  retry_budget_exhausted: 1,
  endpoints,
});

Deno.test("mergeClusterViews sums the Workers' counts and averages latency over users", () => {
  const w0 = [cluster("c", [ep("a", 10, 2, 3), ep("b", 0, 0)])];
  const w1 = [cluster("c", [ep("a", 30, 4, 1), ep("b", 5, 9, 2)]), cluster("d", [])];
  const before = JSON.stringify(w0);
  const [c, d] = mergeClusterViews([w0, w1]);
  assert.equal(JSON.stringify(w0), before, "the reports are not modified");
  assert.equal(c.requests, 45);
  assert.equal(c.active_requests, 4);
  assert.equal(c.retries, 7, "shared counters are taken once, not summed");
  const [a, b] = c.endpoints;
  assert.deepEqual([a.requests, a.failures, a.active_requests, a.ewma_ms], [40, 2, 2, 3]);
  assert.deepEqual(a.connections, { open: 4, idle: 0, pending: 0 });
  // b was idle in Worker 0: its latency is Worker 1's alone.
  assert.deepEqual([b.requests, b.ewma_ms], [5, 9]);
  assert.deepEqual(b.connections, { open: 2, idle: 0, pending: 0 });
  assert.equal(d.name, "d");
  assert.deepEqual(mergeClusterViews([]), []);
});

Deno.test("mergeClusterViews shows an endpoint ejected or unhealthy when one Worker has it so", () => {
  const w0 = [
    cluster("c", [
      ep("a", 1, 1, undefined, { health: "healthy" }),
      ep("b", 1, 1, undefined, { health: "unhealthy" }),
      ep("c", 1, 1, undefined, { ejected: true, ejections: 2 }),
      ep("d", 1, 1),
    ]),
  ];
  const w1 = [
    cluster("c", [
      ep("a", 1, 1, undefined, { health: "unhealthy" }),
      ep("b", 1, 1, undefined, { health: "healthy" }),
      ep("c", 1, 1, undefined, { ejections: 1 }),
      ep("d", 1, 1, undefined, { health: "healthy" }),
    ]),
  ];
  const [c] = mergeClusterViews([w0, w1]);
  const by = Object.fromEntries(c.endpoints.map((e) => [e.address, e]));
  assert.equal(by.a.health, "unhealthy");
  assert.equal(by.b.health, "unhealthy");
  assert.deepEqual([by.c.ejected, by.c.ejections], [true, 3]);
  assert.deepEqual([by.d.health, by.d.ejected], ["healthy", false]);
});
