import type { FamilySnapshot } from "./collector.ts";
import { MetricFamily } from "./metric_family.ts";
import type { MetricCells, MetricStorage } from "./metric_storage.ts";

/**
 * One gauge series: a value that goes up and down (open connections, in-flight requests).
 * Obtain it from `GaugeFamily.labels()` once and keep it.
 */
export class Gauge {
  readonly #cells: MetricCells;

  /** Created by `GaugeFamily`; not constructed directly. */
  constructor(cells: MetricCells) {
    this.#cells = cells;
  }

  /** Adds `n` (default 1). */
  inc(n = 1): void {
    this.#cells.add(0, n);
  }

  /** Subtracts `n` (default 1). */
  dec(n = 1): void {
    this.#cells.add(0, -n);
  }

  /** Sets the value. */
  set(value: number): void {
    this.#cells.set(0, value);
  }

  /** The current value. */
  get value(): number {
    return this.#cells.get(0);
  }
}

/**
 * A gauge family: one `Gauge` per tuple of label values. Create it with
 * `MetricsRegistry.gauge()`.
 *
 * @example
 * ```ts
 * const active = registry.gauge("skiff_downstream_connections", "Open connections.", ["listener"]);
 * const conns = active.labels("ingress");
 * conns.inc();
 * conns.dec();
 * ```
 */
export class GaugeFamily<L extends readonly string[] = readonly string[]>
  extends MetricFamily<Gauge, L> {
  /** Always `"gauge"`. */
  readonly type = "gauge" as const;

  /** Use `MetricsRegistry.gauge()`. */
  constructor(name: string, help: string, labelNames: L, storage: MetricStorage) {
    super(name, help, labelNames, storage, 1);
  }

  /** Reads every child's value. */
  collect(): FamilySnapshot {
    return this.collectScalars("gauge", (child) => child.value);
  }

  /** Creates a child over its cell. */
  protected newChild(cells: MetricCells): Gauge {
    return new Gauge(cells);
  }
}
