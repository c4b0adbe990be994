import type { FamilySnapshot, HistogramSeries } from "./collector.ts";
import { MetricFamily } from "./metric_family.ts";
import type { MetricCells, MetricStorage } from "./metric_storage.ts";

/**
 * One histogram series. Obtain it from `HistogramFamily.labels()` once and keep it; `observe()`
 * is a binary search over the family's bounds and two adds. Cells hold per-bucket (not
 * cumulative) counts, then the `+Inf` bucket, then the sum; cumulative counts are computed
 * only at collection.
 */
export class Histogram {
  readonly #bounds: Float64Array;
  readonly #cells: MetricCells;
  readonly #sumIndex: number;

  /** Created by `HistogramFamily`; not constructed directly. */
  constructor(bounds: Float64Array, cells: MetricCells) {
    this.#bounds = bounds;
    this.#cells = cells;
    this.#sumIndex = bounds.length + 1;
  }

  /**
   * Records one observation (for latencies: in seconds). A value exactly on a bound counts in
   * that bound's bucket (`le`, less than or equal).
   *
   * @throws {RangeError} when `value` is NaN
   */
  observe(value: number): void {
    const bounds = this.#bounds;
    let lo = 0;
    let hi = bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (value <= bounds[mid]) hi = mid;
      else lo = mid + 1;
    }
    if (lo === bounds.length && value !== value) {
      throw new RangeError("Cannot observe NaN in a histogram; check the measured value");
    }
    this.#cells.add(lo, 1);
    this.#cells.add(this.#sumIndex, value);
  }

  /** Cumulative bucket counts (last is `+Inf`), sum and count, read now. */
  snapshot(): Omit<HistogramSeries, "labelValues"> {
    const buckets = new Array<number>(this.#sumIndex);
    let total = 0;
    for (let i = 0; i < this.#sumIndex; i++) {
      total += this.#cells.get(i);
      buckets[i] = total;
    }
    return { buckets, sum: this.#cells.get(this.#sumIndex), count: total };
  }
}

/**
 * A histogram family with fixed bucket bounds: one `Histogram` per tuple of label values.
 * Create it with `MetricsRegistry.histogram()`.
 *
 * @example
 * ```ts
 * const latency = registry.histogram("skiff_request_duration_seconds", "Latency.", ["cluster"]);
 * const h = latency.labels("payments"); // keep this handle
 * h.observe(0.0042);
 * ```
 */
export class HistogramFamily<L extends readonly string[] = readonly string[]>
  extends MetricFamily<Histogram, L> {
  /** Always `"histogram"`. */
  readonly type = "histogram" as const;
  /** Finite upper bounds, strictly ascending (`+Inf` implied). */
  readonly bounds: readonly number[];
  readonly #bounds: Float64Array;

  /** Use `MetricsRegistry.histogram()`; `bounds` must come from `normalizeBuckets()`. */
  constructor(
    name: string,
    help: string,
    labelNames: L,
    bounds: Float64Array,
    storage: MetricStorage,
  ) {
    super(name, help, labelNames, storage, bounds.length + 2);
    this.#bounds = bounds;
    this.bounds = Object.freeze(Array.from(bounds));
  }

  /** Reads every child's buckets, sum and count. */
  collect(): FamilySnapshot {
    const series: HistogramSeries[] = [];
    for (const { labelValues, child } of this.entries()) {
      series.push({ labelValues, ...child.snapshot() });
    }
    return {
      type: "histogram",
      name: this.name,
      help: this.help,
      labelNames: this.labelNames,
      bounds: this.bounds,
      series,
    };
  }

  /** Creates a child over its cells. */
  protected newChild(cells: MetricCells): Histogram {
    return new Histogram(this.#bounds, cells);
  }
}
