import type { Clock } from "../core/mod.ts";
import type { MetricsRegistry } from "./registry.ts";

/**
 * Registers the standard process metrics, computed at every scrape:
 * `process_resident_memory_bytes`, `process_start_time_seconds` and the V8 heap as
 * `deno_heap_used_bytes`, `deno_heap_total_bytes` and `deno_external_memory_bytes`.
 *
 * The start time is `clock.now()` when this function runs, so call it during startup.
 *
 * @param registry where to register the callback gauges
 * @param clock the process clock
 * @throws {TypeError} when called twice on the same registry (the names are taken)
 */
export function registerProcessMetrics(registry: MetricsRegistry, clock: Clock): void {
  const startSeconds = clock.now() / 1000;
  registry.gaugeFn(
    "process_resident_memory_bytes",
    "Resident memory size in bytes.",
    () => Deno.memoryUsage().rss,
  );
  registry.gaugeFn(
    "process_start_time_seconds",
    "Start time of the process since unix epoch in seconds.",
    () => startSeconds,
  );
  registry.gaugeFn(
    "deno_heap_used_bytes",
    "V8 heap memory in use, in bytes.",
    () => Deno.memoryUsage().heapUsed,
  );
  registry.gaugeFn(
    "deno_heap_total_bytes",
    "V8 heap memory reserved, in bytes.",
    () => Deno.memoryUsage().heapTotal,
  );
  registry.gaugeFn(
    "deno_external_memory_bytes",
    "Memory of objects outside the V8 heap bound to JavaScript objects (buffers), in bytes.",
    () => Deno.memoryUsage().external,
  );
}
