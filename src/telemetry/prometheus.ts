import type { FamilySnapshot } from "./collector.ts";

/** The `Content-Type` of `renderPrometheus()` output (text exposition format 0.0.4). */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Anything that yields family snapshots, such as a `MetricsRegistry`. */
export interface SnapshotSource {
  /** Reads every family. */
  collect(): readonly FamilySnapshot[];
}

/**
 * Renders every family of `source` in the Prometheus text exposition format 0.0.4: `# HELP`
 * and `# TYPE` lines, then one line per sample; histograms expose cumulative `_bucket` lines
 * with `le` (ending in `+Inf`), `_sum` and `_count`. Families without series are left out.
 *
 * @param source usually a `MetricsRegistry`; its callback gauges run now
 * @returns the exposition text, each line ending in `\n` (empty when there is nothing to show)
 *
 * @example
 * ```ts
 * const body = renderPrometheus(registry);
 * new Response(body, { headers: { "content-type": PROMETHEUS_CONTENT_TYPE } });
 * ```
 */
export function renderPrometheus(source: SnapshotSource): string {
  const lines: string[] = [];
  for (const family of source.collect()) {
    if (family.series.length === 0) continue;
    const { name } = family;
    lines.push(family.help ? `# HELP ${name} ${escapeHelp(family.help)}` : `# HELP ${name}`);
    lines.push(`# TYPE ${name} ${family.type}`);
    if (family.type === "histogram") {
      const les = family.bounds.map((b) => `le="${formatValue(b)}"`);
      les.push('le="+Inf"');
      for (const s of family.series) {
        const pairs = labelPairs(family.labelNames, s.labelValues);
        const prefix = pairs ? pairs + "," : "";
        for (let i = 0; i < les.length; i++) {
          lines.push(`${name}_bucket{${prefix}${les[i]}} ${formatValue(s.buckets[i])}`);
        }
        const braces = pairs ? `{${pairs}}` : "";
        lines.push(`${name}_sum${braces} ${formatValue(s.sum)}`);
        lines.push(`${name}_count${braces} ${formatValue(s.count)}`);
      }
    } else {
      for (const s of family.series) {
        const pairs = labelPairs(family.labelNames, s.labelValues);
        lines.push(`${name}${pairs ? `{${pairs}}` : ""} ${formatValue(s.value)}`);
      }
    }
  }
  return lines.length ? lines.join("\n") + "\n" : "";
}

/**
 * Formats a sample value or bound as Prometheus parses it: `+Inf`, `-Inf`, `NaN`, otherwise
 * the shortest decimal that round-trips (`0.005`, `1e-7`, `42`).
 */
export function formatValue(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value); // "NaN" for NaN, "0" for -0
}

/** Escapes a label value: backslash, double quote and newline. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => c === "\n" ? "\\n" : "\\" + c);
}

function escapeHelp(help: string): string {
  return help.replace(/[\\\n]/g, (c) => c === "\n" ? "\\n" : "\\\\");
}

function labelPairs(names: readonly string[], values: readonly string[]): string {
  let out = "";
  for (let i = 0; i < names.length; i++) {
    if (i > 0) out += ",";
    out += `${names[i]}="${escapeLabelValue(values[i])}"`;
  }
  return out;
}
