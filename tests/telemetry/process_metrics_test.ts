import assert from "node:assert/strict";
import { VirtualClock } from "../../src/core/mod.ts";
import {
  MetricsRegistry,
  registerProcessMetrics,
  renderPrometheus,
} from "../../src/telemetry/mod.ts";

Deno.test("process metrics are computed at scrape time", () => {
  const clock = new VirtualClock(1_700_000_000_500);
  const r = new MetricsRegistry();
  registerProcessMetrics(r, clock);
  const values = new Map(
    r.collect().map((f) => [f.name, f.type !== "histogram" ? f.series[0].value : NaN]),
  );
  assert.deepEqual([...values.keys()], [
    "deno_external_memory_bytes",
    "deno_heap_total_bytes",
    "deno_heap_used_bytes",
    "process_resident_memory_bytes",
    "process_start_time_seconds",
  ]);
  assert.equal(values.get("process_start_time_seconds"), 1_700_000_000.5);
  assert.ok(values.get("process_resident_memory_bytes")! > 1024 * 1024);
  assert.ok(values.get("deno_heap_used_bytes")! > 0);
  assert.ok(values.get("deno_heap_used_bytes")! <= values.get("deno_heap_total_bytes")!);
  assert.match(renderPrometheus(r), /^process_resident_memory_bytes \d+$/m);
});

Deno.test("registering process metrics twice throws TypeError", () => {
  const clock = new VirtualClock();
  const r = new MetricsRegistry();
  registerProcessMetrics(r, clock);
  assert.throws(() => registerProcessMetrics(r, clock), TypeError);
});
