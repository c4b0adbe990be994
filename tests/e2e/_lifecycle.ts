// Helpers of the lifecycle end-to-end tests: a temporary directory, the wait for a reload to
// be applied, a bounded keep-alive load loop, and skiff's exit status.
import assert from "node:assert/strict";
import { type SkiffProcess, waitFor, within } from "../_harness/mod.ts";

// grpc-js and the load loops' HTTP clients keep timers and sockets alive past each step.
export const OPTS = { sanitizeOps: false, sanitizeResources: false };

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "skiff_e2e_lifecycle_" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Waits for the outcome of the reload that makes `version` active: resolves on its
 * "config reloaded" log line, fails at once on a "config reload failed…" or "…refused" line.
 */
export async function reloaded(skiff: SkiffProcess, version: number): Promise<void> {
  const line = await waitFor(
    `the reload to version ${version}`,
    () =>
      skiff.logs().find((l) =>
        (l.msg === "config reloaded" && l.version === version) ||
        /^config reload (failed|refused)/.test(String(l.msg))
      ),
    20_000,
  );
  assert.equal(line!.msg, "config reloaded", `reload refused: ${JSON.stringify(line)}`);
}

/** What a load loop saw. */
export interface LoadStats {
  sent: number;
  ok: number;
  /** The first few failures (status, header, body or socket), with the count in `failed`. */
  failures: string[];
  failed: number;
  /** Successful responses by the value of the `x-config` response header. */
  byVersion: Map<string, number>;
}

/**
 * `clients` keep-alive HTTP clients (one connection pool each), each sending GET `url` in a
 * loop until `stop()`, `maxPerClient` requests or `deadlineMs` — whichever comes first.
 * `check` returns why a response is wrong, or undefined when it is right.
 */
export function startLoad(
  url: string,
  opts: {
    clients: number;
    maxPerClient: number;
    deadlineMs: number;
    check: (res: Response, body: string) => string | undefined;
  },
): { stats: LoadStats; more(n: number): Promise<void>; stop(): Promise<LoadStats> } {
  const stats: LoadStats = { sent: 0, ok: 0, failures: [], failed: 0, byVersion: new Map() };
  const deadline = Date.now() + opts.deadlineMs;
  let stopped = false;
  const fail = (why: string) => {
    stats.failed++;
    if (stats.failures.length < 10) stats.failures.push(why);
  };
  const loops = Array.from({ length: opts.clients }, async () => {
    using client = Deno.createHttpClient({ poolMaxIdlePerHost: 1 });
    for (let i = 0; i < opts.maxPerClient && !stopped && Date.now() < deadline; i++) {
      stats.sent++;
      try {
        const res = await fetch(url, { client });
        const body = await res.text();
        const wrong = res.status === 200
          ? opts.check(res, body)
          : `status ${res.status}: ${body.slice(0, 200)}`;
        if (wrong) {
          fail(wrong);
          continue;
        }
        stats.ok++;
        const v = res.headers.get("x-config") ?? "(none)";
        stats.byVersion.set(v, (stats.byVersion.get(v) ?? 0) + 1);
      } catch (err) {
        const cause = (err as Error)?.cause;
        fail(`socket: ${err}${cause ? ` (${cause})` : ""}`);
      }
    }
  });
  return {
    stats,
    /** Resolves once at least `n` more requests were answered (whatever their outcome). */
    more: async (n: number) => {
      const target = stats.sent + n;
      await waitFor(`${n} more requests`, () => stats.sent >= target, 60_000);
    },
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
      return stats;
    },
  };
}

/** Skiff's exit status, or a failure showing its stderr when it does not exit in time. */
export function exitOf(p: SkiffProcess): Promise<number> {
  return within(`skiff to exit; stderr:\n${p.stderr()}`, p.wait(), 40_000);
}
