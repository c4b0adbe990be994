import type { Config, ListenerConfig } from "../config/schema.ts";
import { addressKey, sameSocket } from "../config/diff.ts";

/** What a reload does to the running listeners, decided from configs alone. */
export interface ListenerPlan<L> {
  /** Names of the listeners the new config adds, removes, and binds anew at a changed socket. */
  changes: { added: string[]; removed: string[]; rebound: string[] };
  /** Running listeners whose address and TLS mode are unchanged: they keep their sockets. */
  kept: L[];
  /** Running listeners the new config removes or rebinds: they drain. */
  leaving: L[];
  /** Listeners to bind before anything else changes (a failure leaves everything as it was). */
  now: string[];
  /** Listeners to bind once the leaving ones let go of the address they still hold. */
  later: string[];
}

/**
 * Decides which of the `running` listeners the listeners of `config` keep, rebind or drain,
 * and which to bind when. A socket whose address an outgoing listener still holds waits for
 * it (`later`), unless both can share it with SO_REUSEPORT (`reusePort`).
 *
 * @param running the listeners serving the current version
 * @param config the new config
 * @param reusePort whether listeners are bound with SO_REUSEPORT
 * @returns the plan, the listeners of each list in config order (removed ones last)
 */
export function planListeners<L extends { readonly name: string; readonly config: ListenerConfig }>(
  running: readonly L[],
  config: Config,
  reusePort: boolean | undefined,
): ListenerPlan<L> {
  const lc = { added: [] as string[], removed: [] as string[], rebound: [] as string[] };
  const kept: L[] = [];
  const leaving: L[] = [];
  const toBind: string[] = [];
  const byName = new Map(running.map((l) => [l.name, l]));
  for (const l of config.listeners) {
    const old = byName.get(l.name);
    if (old && sameSocket(old.config, l)) kept.push(old);
    else {
      if (old) leaving.push(old);
      (old ? lc.rebound : lc.added).push(l.name);
      toBind.push(l.name);
    }
  }
  const names = new Set(config.listeners.map((l) => l.name));
  for (const l of running) {
    if (!names.has(l.name)) {
      leaving.push(l);
      lc.removed.push(l.name);
    }
  }
  const held = new Set(leaving.map((l) => addressKey(l.config)));
  const now = toBind.filter((n) => reusePort || !held.has(addressKey(lOf(config, n))));
  const later = toBind.filter((n) => !now.includes(n));
  return { changes: lc, kept, leaving, now, later };
}

function lOf(config: Config, name: string): ListenerConfig {
  return config.listeners.find((l) => l.name === name)!;
}
