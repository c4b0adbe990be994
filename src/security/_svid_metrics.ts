import type { Counter, CounterFamily, Gauge, MetricsRegistry } from "../telemetry/mod.ts";
import type { SvidProblem } from "./svid.ts";

/** The metrics an `SvidSource` records. */
export class SvidMetrics {
  /** `skiff_svid_expiry_timestamp_seconds`: when the SVID in use expires. */
  readonly expiry: Gauge;
  /** `skiff_svid_rotations_total`: switches to a new SVID or bundle after the first load. */
  readonly rotations: Counter;
  readonly #failures: CounterFamily<readonly ["reason"]>;

  /** Registers (or reuses) the families in `registry`. */
  constructor(registry: MetricsRegistry) {
    this.expiry = registry.gauge(
      "skiff_svid_expiry_timestamp_seconds",
      "Unix time at which the X.509-SVID in use expires.",
    ).labels();
    this.rotations = registry.counter(
      "skiff_svid_rotations_total",
      "Times a new X.509-SVID or trust bundle was taken into use.",
    ).labels();
    this.#failures = registry.counter(
      "skiff_svid_load_failures_total",
      "Times the SVID files could not be loaded (the previous SVID stays in use), by reason.",
      ["reason"] as const,
    );
  }

  /** Counts a failed load. */
  failed(reason: SvidProblem): void {
    this.#failures.labels(reason).inc();
  }
}
