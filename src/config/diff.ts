import type { Config, ListenerConfig } from "./schema.ts";

/** Clusters by what a reload does to them. */
export interface ClusterChanges {
  added: string[];
  removed: string[];
  changed: string[];
  kept: string[];
}

/** A listener's address as a comparable key. */
export function addressKey(l: ListenerConfig): string {
  return `${l.address.hostname}|${l.address.port}`;
}

/** True when a listener can keep its socket across a reload: same address, same TLS mode. */
export function sameSocket(a: ListenerConfig, b: ListenerConfig): boolean {
  // Port 0 asks the kernel for any port: a reload keeps the one it got.
  return addressKey(a) === addressKey(b) && a.tls.mode === b.tls.mode;
}

/** Which clusters a reload from `prev` to `next` adds, removes, changes and keeps. */
export function clusterChanges(prev: Config, next: Config): ClusterChanges {
  const before = new Map(prev.clusters.map((c) => [c.name, JSON.stringify(c)]));
  const out = { added: [] as string[], removed: [] as string[], changed: [] as string[] };
  const kept: string[] = [];
  for (const c of next.clusters) {
    const b = before.get(c.name);
    if (b === undefined) out.added.push(c.name);
    else if (b !== JSON.stringify(c)) out.changed.push(c.name);
    else kept.push(c.name);
  }
  const names = new Set(next.clusters.map((c) => c.name));
  for (const c of prev.clusters) if (!names.has(c.name)) out.removed.push(c.name);
  return { ...out, kept };
}

/** True when two config values are the same (as JSON). */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
