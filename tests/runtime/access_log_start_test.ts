// A start whose access log file cannot be opened is refused with the file and the fix, as Envoy
// refuses one, instead of running and dropping every record.
import assert from "node:assert/strict";
import { oneRouteConfig, startHttpUpstream, startSidecar } from "../_harness/mod.ts";

Deno.test("a sidecar whose access log file cannot be opened does not start", async () => {
  await using up = startHttpUpstream("up");
  const yaml = oneRouteConfig(up.port) +
    "access_log: { sink: file, path: /nonexistent-dir/a.log }\n";
  await assert.rejects(
    startSidecar(yaml),
    /access log file "\/nonexistent-dir\/a\.log" cannot be opened/,
  );
});
