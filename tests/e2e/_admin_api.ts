/**
 * Reading skiff's admin API in end-to-end tests: `/clusters` as typed JSON, and `/metrics`
 * as text with a sample lookup.
 * @module
 */

import type { ClusterView } from "../../src/dataplane/cluster_view.ts";

/** One cluster on the admin `/clusters` page (the shape skiff serves). */
export type { ClusterView };

/** Fetches `/clusters` and returns cluster `name`. */
export async function clusterView(adminUrl: string, name: string): Promise<ClusterView> {
  const res = await fetch(`${adminUrl}/clusters`);
  if (res.status !== 200) throw new Error(`/clusters answered ${res.status}`);
  const all = (await res.json()) as ClusterView[];
  const c = all.find((x) => x.name === name);
  if (!c) throw new Error(`No cluster "${name}" on /clusters`);
  return c;
}

/** Fetches `/metrics` as text. */
export async function metricsText(adminUrl: string): Promise<string> {
  const res = await fetch(`${adminUrl}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return await res.text();
}

/** The value of the sample `name{labels}` on a sidecar's `/metrics` now, or 0 when absent. */
export async function metric(
  s: { adminUrl: string },
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  return sample(await metricsText(s.adminUrl), name, labels) ?? 0;
}

/**
 * The value of the sample `name{labels}` in Prometheus text, or `undefined` when absent.
 * Labels must all match; the sample may have more.
 */
export function sample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== "{" && rest[0] !== " ") continue;
    const close = rest[0] === "{" ? rest.indexOf("} ") : -1;
    const labelText = close >= 0 ? `,${rest.slice(1, close)},` : ",,";
    const ok = Object.entries(labels).every(([k, v]) =>
      labelText.includes(`,${k}="${v.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}",`)
    );
    if (ok) return Number(rest.slice(close >= 0 ? close + 2 : 1).trim().split(" ")[0]);
  }
  return undefined;
}
