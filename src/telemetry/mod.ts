/**
 * Telemetry: a metrics registry with cached child handles for the request path, Prometheus
 * text exposition, process metrics, and the access log with batching sinks.
 *
 * @example
 * ```ts
 * const registry = new MetricsRegistry();
 * registerProcessMetrics(registry, clock);
 * const latency = registry.histogram("skiff_request_duration_seconds", "Latency.", ["cluster"]);
 * const h = latency.labels("payments"); // once, at setup
 * h.observe(0.0042); // per request
 * const body = renderPrometheus(registry); // per scrape
 * ```
 * @module
 */
export { MetricsRegistry, type MetricsRegistryOptions } from "./registry.ts";
export { Counter, CounterFamily } from "./counter.ts";
export { Gauge, GaugeFamily } from "./gauge.ts";
export { Histogram, HistogramFamily } from "./histogram.ts";
export { CallbackGauge } from "./callback_gauge.ts";
export { CallbackGaugeFamily, type CallbackSeries } from "./callback_gauge_family.ts";
export { type FamilyEntry, type LabelValues, MetricFamily } from "./metric_family.ts";
export { DEFAULT_LATENCY_BUCKETS, normalizeBuckets } from "./buckets.ts";
export type {
  Collector,
  FamilySnapshot,
  HistogramSeries,
  MetricType,
  ScalarSeries,
} from "./collector.ts";
export { heapMetricStorage, type MetricCells, type MetricStorage } from "./metric_storage.ts";
export { type SharedCells, SharedMetricStorage } from "./shared_metric_storage.ts";
export {
  escapeLabelValue,
  formatValue,
  PROMETHEUS_CONTENT_TYPE,
  renderPrometheus,
  type SnapshotSource,
} from "./prometheus.ts";
export { registerProcessMetrics } from "./process_metrics.ts";
export { type AccessLogRecord, formatAccessLogRecord } from "./access_log_record.ts";
export type { AccessLogSink } from "./access_log_sink.ts";
export { offAccessLog } from "./off_access_log.ts";
export { type RecordProducer, RingAccessLog } from "./ring_access_log.ts";
export {
  BatchingAccessLog,
  type BatchingAccessLogOptions,
  type ByteWriter,
} from "./batching_access_log.ts";
export {
  type AccessLogDeps,
  type AccessLogOptions,
  checkAccessLogFile,
  createAccessLog,
} from "./access_log.ts";
