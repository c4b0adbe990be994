import assert from "node:assert/strict";
import {
  escapeLabelValue,
  formatValue,
  MetricsRegistry,
  PROMETHEUS_CONTENT_TYPE,
  renderPrometheus,
} from "../../src/telemetry/mod.ts";

Deno.test("exposition matches the golden text", () => {
  const r = new MetricsRegistry();
  const requests = r.counter("skiff_requests", "Requests handled.", ["listener", "code"]);
  requests.labels("ingress", "200").inc(3);
  requests.labels("ingress", "503").inc();
  r.counter("skiff_config_reloads", "Config reloads.");
  r.gauge("skiff_unused", "Labeled family without children is left out.", ["x"]);
  r.gauge("skiff_connections", "Open downstream connections.").labels().set(2);
  const latency = r.histogram(
    "skiff_request_duration_seconds",
    "Request latency.",
    ["cluster"],
    [0.125, 0.25, 1],
  );
  const h = latency.labels("payments");
  for (const v of [0.0625, 0.25, 0.5, 4]) h.observe(v);
  latency.labels("empty");
  r.histogram("skiff_plain_seconds", "No labels.", [], [1]).labels().observe(0.5);
  r.gaugeFn("skiff_config_version", "Version of the active config.", () => 7);

  assert.equal(
    renderPrometheus(r),
    `# HELP skiff_config_reloads_total Config reloads.
# TYPE skiff_config_reloads_total counter
skiff_config_reloads_total 0
# HELP skiff_config_version Version of the active config.
# TYPE skiff_config_version gauge
skiff_config_version 7
# HELP skiff_connections Open downstream connections.
# TYPE skiff_connections gauge
skiff_connections 2
# HELP skiff_plain_seconds No labels.
# TYPE skiff_plain_seconds histogram
skiff_plain_seconds_bucket{le="1"} 1
skiff_plain_seconds_bucket{le="+Inf"} 1
skiff_plain_seconds_sum 0.5
skiff_plain_seconds_count 1
# HELP skiff_request_duration_seconds Request latency.
# TYPE skiff_request_duration_seconds histogram
skiff_request_duration_seconds_bucket{cluster="payments",le="0.125"} 1
skiff_request_duration_seconds_bucket{cluster="payments",le="0.25"} 2
skiff_request_duration_seconds_bucket{cluster="payments",le="1"} 3
skiff_request_duration_seconds_bucket{cluster="payments",le="+Inf"} 4
skiff_request_duration_seconds_sum{cluster="payments"} 4.8125
skiff_request_duration_seconds_count{cluster="payments"} 4
skiff_request_duration_seconds_bucket{cluster="empty",le="0.125"} 0
skiff_request_duration_seconds_bucket{cluster="empty",le="0.25"} 0
skiff_request_duration_seconds_bucket{cluster="empty",le="1"} 0
skiff_request_duration_seconds_bucket{cluster="empty",le="+Inf"} 0
skiff_request_duration_seconds_sum{cluster="empty"} 0
skiff_request_duration_seconds_count{cluster="empty"} 0
# HELP skiff_requests_total Requests handled.
# TYPE skiff_requests_total counter
skiff_requests_total{listener="ingress",code="200"} 3
skiff_requests_total{listener="ingress",code="503"} 1
`,
  );
});

Deno.test("an empty registry renders as empty text", () => {
  assert.equal(renderPrometheus(new MetricsRegistry()), "");
  assert.equal(PROMETHEUS_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
});

Deno.test("label values escape backslash, double quote and newline only", () => {
  assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  assert.equal(escapeLabelValue("tab\there, ünï, {x=1}, 'q'"), "tab\there, ünï, {x=1}, 'q'");
  const r = new MetricsRegistry();
  r.counter("c", 'Help with \\ backslash, "quotes"\nand a newline.', ["path"])
    .labels('/a\\b"c"\nd').inc();
  assert.equal(
    renderPrometheus(r),
    '# HELP c_total Help with \\\\ backslash, "quotes"\\nand a newline.\n' +
      "# TYPE c_total counter\n" +
      'c_total{path="/a\\\\b\\"c\\"\\nd"} 1\n',
  );
});

Deno.test("values are formatted as Prometheus parses them", () => {
  const table: [number, string][] = [
    [0, "0"],
    [-0, "0"],
    [42, "42"],
    [0.00005, "0.00005"],
    [1e-7, "1e-7"],
    [1e21, "1e+21"],
    [-2.5, "-2.5"],
    [Infinity, "+Inf"],
    [-Infinity, "-Inf"],
    [NaN, "NaN"],
  ];
  for (const [v, s] of table) assert.equal(formatValue(v), s, `formatValue(${v})`);
});

Deno.test("a callback that throws fails the scrape instead of hiding the error", () => {
  const r = new MetricsRegistry();
  r.gaugeFn("broken", "B.", () => {
    throw new Error("boom");
  });
  assert.throws(() => renderPrometheus(r), /boom/);
});
