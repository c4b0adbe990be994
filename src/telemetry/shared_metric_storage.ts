import type { MetricCells, MetricStorage } from "./metric_storage.ts";
import { MetricFamily } from "./metric_family.ts";
import type { MetricsRegistry } from "./registry.ts";

/**
 * Cells in memory shared by several isolates, updated atomically — the shape of
 * `StatsBlock` from the `wasm` layer (kept structural so telemetry does not depend on it).
 */
export interface SharedCells {
  /** Finds or creates the cells of series `key`; the same key gives the same cells everywhere. */
  series(key: string, size: number): number;
  add(cell: number, delta: number): void;
  set(cell: number, value: number): void;
  get(cell: number): number;
  /** Series created so far, by any isolate. */
  readonly count: number;
  /** Series `index` in creation order. */
  entry(index: number): { key: string; cell: number; size: number };
}

class SharedSeriesCells implements MetricCells {
  readonly #block: SharedCells;
  readonly #base: number;
  constructor(block: SharedCells, base: number) {
    this.#block = block;
    this.#base = base;
  }
  /** Atomically adds `delta` to cell `index` of this series. */
  add(index: number, delta: number): void {
    this.#block.add(this.#base + index, delta);
  }
  /** Atomically sets cell `index` of this series. */
  set(index: number, value: number): void {
    this.#block.set(this.#base + index, value);
  }
  /** Reads cell `index` of this series. */
  get(index: number): number {
    return this.#block.get(this.#base + index);
  }
}

/**
 * Metric storage for node mode: every series lives in one shared stats block, found by its
 * name and label values, so the same series updated by several data-plane Workers is one set
 * of cells, summed as it happens. The main isolate's registry reads the same cells at
 * scrape time, after `adopt()` has brought in the series the Workers created.
 */
export class SharedMetricStorage implements MetricStorage {
  readonly #block: SharedCells;
  #adopted = 0;
  /** Series `adopt()` could not place: their family is unknown here or has other labels. */
  skipped = 0;

  /** @param block the shared cells (a `StatsBlock`) */
  constructor(block: SharedCells) {
    this.#block = block;
  }

  allocate(name: string, labelValues: readonly string[], size: number): MetricCells {
    return new SharedSeriesCells(
      this.#block,
      this.#block.series(seriesKey(name, labelValues), size),
    );
  }

  /**
   * Registers in `registry` every series another isolate created since the last call, so
   * that its families expose them. Series of families `registry` does not have are skipped
   * (each isolate registers the same families, so there are none in practice).
   *
   * @returns how many series were adopted
   */
  adopt(registry: MetricsRegistry): number {
    const block = this.#block;
    let adopted = 0;
    for (const end = block.count; this.#adopted < end; this.#adopted++) {
      const [name, ...values] = JSON.parse(block.entry(this.#adopted).key) as string[];
      const family = registry.family(name);
      if (!(family instanceof MetricFamily) || family.labelNames.length !== values.length) {
        this.skipped++; // the isolates disagree on a family: visible, but never fatal
        continue;
      }
      (family as MetricFamily<unknown, readonly string[]>).labels(...values);
      adopted++;
    }
    return adopted;
  }
}

/** The key of one series in the shared block: unambiguous for any names and values. */
function seriesKey(name: string, labelValues: readonly string[]): string {
  return JSON.stringify([name, ...labelValues]);
}
