import type { Config } from "../config/schema.ts";
import type { ReloadOutcome } from "../control/lifecycle.ts";

/**
 * The config sections a running skiff cannot change: they apply at the next (hot) restart.
 * The admin port is the hot-restart handshake's channel, gossip and identity are long-lived
 * sessions with their own sockets and watchers, Workers are threads, and the access log owns
 * an open file.
 */
const RESTART_SECTIONS = ["admin", "gossip", "identity", "workers", "access_log"] as const;

/** The sections of `next` that differ from `running` and need a restart to apply. */
export function restartNeeded(running: Config, next: Config): string[] {
  return RESTART_SECTIONS.filter((k) => !sameJson(running[k], next[k]));
}

/** `next` with the restart-only sections of `running`: the config a reload can make effective. */
export function withRestartSections(next: Config, running: Config): Config {
  const out = { ...next };
  for (const k of RESTART_SECTIONS) (out as Record<string, unknown>)[k] = running[k];
  return out;
}

/** The outcome of a reload that failed with `err`: the running version stays. */
export function reloadFailure(err: unknown, version: number, restart: string[]): ReloadOutcome {
  const shadow = (err as { report?: unknown })?.report;
  return {
    ok: false,
    version,
    error: err instanceof Error ? err.message : String(err),
    restartNeeded: restart,
    ...(shadow === undefined ? {} : { shadow }),
  };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a, bytesAsArrays) === JSON.stringify(b, bytesAsArrays);
}

/** Gossip keys are bytes: compare their values. */
function bytesAsArrays(_k: string, v: unknown): unknown {
  return v instanceof Uint8Array ? [...v] : v;
}
