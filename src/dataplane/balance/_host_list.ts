import type { Host } from "./host.ts";

/**
 * A balancer's own copy of the host list.
 *
 * @throws {TypeError} when two hosts share a key
 */
export function copyHosts(hosts: readonly Host[]): Host[] {
  const seen = new Set<string>();
  for (const host of hosts) {
    if (seen.has(host.key)) {
      throw new TypeError(`Host "${host.key}" appears twice: pass each endpoint once`);
    }
    seen.add(host.key);
  }
  return hosts.slice();
}

/** True when every host is in `avoid` (O(1) when `avoid` is smaller than the list). */
export function allAvoided(hosts: readonly Host[], avoid: ReadonlySet<Host>): boolean {
  if (avoid.size < hosts.length) return false;
  for (let i = 0; i < hosts.length; i++) if (!avoid.has(hosts[i])) return false;
  return true;
}

/** The set to honour for one pick: `undefined` when nothing needs avoiding or all would. */
export function effectiveAvoid(
  hosts: readonly Host[],
  avoid: ReadonlySet<Host> | undefined,
): ReadonlySet<Host> | undefined {
  return avoid === undefined || avoid.size === 0 || allAvoided(hosts, avoid) ? undefined : avoid;
}

/** True when `hosts` holds the same objects with the same weights as before. */
export function sameHosts(
  before: readonly Host[],
  weights: readonly number[],
  hosts: readonly Host[],
): boolean {
  if (before.length !== hosts.length) return false;
  for (let i = 0; i < hosts.length; i++) {
    if (before[i] !== hosts[i] || weights[i] !== hosts[i].weight) return false;
  }
  return true;
}
