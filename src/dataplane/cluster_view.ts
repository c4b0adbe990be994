import type { ClusterRuntime } from "./cluster.ts";
import type { HealthStatus } from "./health/health_checker.ts";

/** One endpoint of a cluster as the admin API shows it. */
export interface EndpointView {
  address: string;
  weight: number;
  labels: Readonly<Record<string, string>>;
  active_requests: number;
  requests: number;
  failures: number;
  ewma_ms: number;
  connections: { open: number; idle: number; pending: number } | null;
  /** Active health checks: `unchecked` without them or before the endpoint's first. */
  health: HealthStatus;
  /** Ejected by outlier detection now. */
  ejected: boolean;
  /** Ejections by outlier detection so far. */
  ejections: number;
}

/**
 * A cluster's state as plain JSON: what `/clusters` shows and what a data-plane Worker
 * reports to the main isolate, which adds the reports of every Worker together.
 */
export interface ClusterView {
  name: string;
  lb_policy: string;
  protocol: string;
  active_requests: number;
  requests: number;
  retries: number;
  retry_budget_exhausted: number;
  endpoints: EndpointView[];
}

/** Reads the view of one running cluster. */
export function clusterView(c: ClusterRuntime): ClusterView {
  return {
    name: c.name,
    lb_policy: c.config.lb_policy,
    protocol: c.config.protocol,
    active_requests: c.active,
    requests: c.requests,
    retries: c.counters.retries.value,
    retry_budget_exhausted: c.counters.retryBudgetExhausted.value,
    endpoints: c.hosts.map((h) => {
      const pool = c.existingPool(h);
      const s = h.toJSON();
      const health = c.health?.state(h.key);
      return {
        address: h.key,
        weight: s.weight,
        labels: h.endpoint.labels,
        active_requests: s.active,
        requests: s.requests,
        failures: s.failures,
        ewma_ms: Math.round(s.ewmaMs * 1000) / 1000,
        connections: pool ? { open: pool.open, idle: pool.idle, pending: pool.pending } : null,
        health: health?.health ?? "unchecked",
        ejected: health?.ejected ?? false,
        ejections: health?.ejections ?? 0,
      };
    }),
  };
}

/**
 * Adds together the views several Workers report of the same clusters: counts are summed,
 * the latency EWMA is averaged over the Workers that used the endpoint. Each Worker detects
 * outliers and checks health on its own: an endpoint is shown ejected, or unhealthy, when
 * one Worker has it so (healthy when one has it healthy and none unhealthy). `retries` and
 * `retry_budget_exhausted` come from shared counters that every Worker already sees whole,
 * so they are taken once, not summed.
 */
export function mergeClusterViews(reports: readonly (readonly ClusterView[])[]): ClusterView[] {
  const byName = new Map<string, ClusterView>();
  const ewmaUsers = new Map<EndpointView, number>();
  for (const report of reports) {
    for (const c of report) {
      const into = byName.get(c.name);
      if (!into) {
        const copy = { ...c, endpoints: c.endpoints.map(copyEndpoint) };
        for (const e of copy.endpoints) ewmaUsers.set(e, e.requests > 0 ? 1 : 0);
        byName.set(c.name, copy);
        continue;
      }
      into.active_requests += c.active_requests;
      into.requests += c.requests;
      for (const e of c.endpoints) {
        const t = into.endpoints.find((x) => x.address === e.address);
        if (!t) {
          const copy = copyEndpoint(e);
          ewmaUsers.set(copy, e.requests > 0 ? 1 : 0);
          into.endpoints.push(copy);
          continue;
        }
        t.active_requests += e.active_requests;
        t.requests += e.requests;
        t.failures += e.failures;
        t.ejected ||= e.ejected;
        t.ejections += e.ejections;
        if (e.health === "unhealthy" || t.health === "unchecked") t.health = e.health;
        if (e.requests > 0) {
          const n = ewmaUsers.get(t) ?? 0;
          t.ewma_ms = Math.round(((t.ewma_ms * n + e.ewma_ms) / (n + 1)) * 1000) / 1000;
          ewmaUsers.set(t, n + 1);
        }
        if (e.connections) {
          t.connections ??= { open: 0, idle: 0, pending: 0 };
          t.connections.open += e.connections.open;
          t.connections.idle += e.connections.idle;
          t.connections.pending += e.connections.pending;
        }
      }
    }
  }
  return [...byName.values()];
}

function copyEndpoint(e: EndpointView): EndpointView {
  return { ...e, connections: e.connections ? { ...e.connections } : null };
}
