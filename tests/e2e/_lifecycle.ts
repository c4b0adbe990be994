// Helpers of the lifecycle end-to-end tests: a temporary directory and the wait for a reload
// to be applied.
import assert from "node:assert/strict";
import { type SkiffProcess, waitFor } from "../_harness/mod.ts";

// grpc-js and the load loops' HTTP clients keep timers and sockets alive past each step.
export const OPTS = { sanitizeOps: false, sanitizeResources: false };

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
