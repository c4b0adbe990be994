/**
 * The cells holding one series' numbers (one for a counter or gauge; buckets and sum for a
 * histogram). Metric children update values only through this interface so that the heap
 * storage used today can be swapped for shared memory updated with atomics.
 */
export interface MetricCells {
  /** Adds `delta` to cell `index`. */
  add(index: number, delta: number): void;
  /** Sets cell `index` to `value`. */
  set(index: number, value: number): void;
  /** Reads cell `index`. */
  get(index: number): number;
}

/** Hands out cells for new series; injected into `MetricsRegistry`. */
export interface MetricStorage {
  /**
   * Allocates `size` zeroed cells for the series `name` with `labelValues` (the identity lets
   * a shared-memory storage give the same series the same cells in every worker).
   */
  allocate(name: string, labelValues: readonly string[], size: number): MetricCells;
}

class HeapCells implements MetricCells {
  readonly #values: Float64Array;
  constructor(size: number) {
    this.#values = new Float64Array(size);
  }
  add(index: number, delta: number): void {
    this.#values[index] += delta;
  }
  set(index: number, value: number): void {
    this.#values[index] = value;
  }
  get(index: number): number {
    return this.#values[index];
  }
}

/** The default storage: each series owns a small `Float64Array` on this isolate's heap. */
export const heapMetricStorage: MetricStorage = {
  allocate: (_name, _labelValues, size) => new HeapCells(size),
};
