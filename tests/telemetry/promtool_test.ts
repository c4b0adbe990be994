// Runs the real `promtool check metrics` (Prometheus) over skiff's exposition output.
import assert from "node:assert/strict";
import { VirtualClock } from "../../src/core/mod.ts";
import { promtoolCheck, promtoolInstalled } from "../_harness/mod.ts";
import {
  MetricsRegistry,
  registerProcessMetrics,
  renderPrometheus,
} from "../../src/telemetry/mod.ts";

const installed = await promtoolInstalled();
if (!installed) {
  console.warn("promtool_test: skipped — `promtool` is not on PATH (Debian package prometheus)");
}

function populatedRegistry(): MetricsRegistry {
  const r = new MetricsRegistry();
  registerProcessMetrics(r, new VirtualClock());
  const requests = r.counter("skiff_http_requests", "HTTP requests handled.", [
    "listener",
    "route",
    "code",
  ]);
  requests.labels("ingress", "api", "200").inc(1234);
  requests.labels("ingress", 'we"ird\\ro\nute', "503").inc();
  requests.labels("ingress", "ünïcode ✓", "404").inc(2);
  r.counter("skiff_config_reloads", "Config reloads.");
  r.gauge("skiff_downstream_connections", "Open downstream connections.", ["listener"])
    .labels("ingress").set(17);
  r.gauge("skiff_temperature_celsius", "Negative and fractional values.").labels().set(-1.5e-7);
  const latency = r.histogram(
    "skiff_request_duration_seconds",
    "End-to-end request latency.",
    ["cluster"],
  );
  const h = latency.labels("payments");
  for (const v of [0.00004, 0.00005, 0.0007, 0.013, 0.2, 1, 59, 61, 1e9]) h.observe(v);
  latency.labels("idle");
  r.histogram("skiff_upstream_connect_seconds", "Time to connect upstream.").labels()
    .observe(0.0021);
  return r;
}

Deno.test({
  name: "promtool check metrics accepts a populated registry with no lint problems",
  ignore: !installed,
  async fn() {
    const text = renderPrometheus(populatedRegistry());
    assert.match(text, /skiff_request_duration_seconds_bucket\{cluster="payments",le="\+Inf"\} 9/);
    const { code, output } = await promtoolCheck(text);
    assert.equal(output, "", "promtool reported problems");
    assert.equal(code, 0);
  },
});

Deno.test({
  name: "the promtool harness does detect lint problems and parse errors",
  ignore: !installed,
  async fn() {
    const lint = await promtoolCheck("# HELP x_total X.\n# TYPE x_total gauge\nx_total 1\n");
    assert.notEqual(lint.code, 0);
    assert.match(lint.output, /_total/);
    const parse = await promtoolCheck('# TYPE y counter\ny{a="unterminated} 1\n');
    assert.notEqual(parse.code, 0);
  },
});
