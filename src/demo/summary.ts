/** Percentile `p` (0–100) of sorted numbers, nearest-rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** What the demo's load loop observed. */
export interface DemoResults {
  requests: number;
  seconds: number;
  statuses: Map<string, number>;
  byUpstream: Map<string, number>;
  latenciesMs: number[];
}

/** Renders the end-of-demo summary as text. */
export function formatSummary(r: DemoResults): string {
  const lat = [...r.latenciesMs].sort((a, b) => a - b);
  const lines = [
    `requests   ${r.requests} in ${r.seconds.toFixed(1)} s (${
      Math.round(r.requests / r.seconds)
    }/s)`,
    `statuses   ${[...r.statuses].sort().map(([k, v]) => `${k}: ${v}`).join("  ")}`,
    `latency    p50 ${percentile(lat, 50).toFixed(2)} ms   p99 ${
      percentile(lat, 99).toFixed(2)
    } ms`,
    "answered   " +
    [...r.byUpstream].sort().map(([k, v]) =>
      `${k}: ${v} (${(100 * v / Math.max(1, r.requests)).toFixed(1)} %)`
    ).join("  "),
  ];
  return lines.join("\n");
}
