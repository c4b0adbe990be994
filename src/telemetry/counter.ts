import type { FamilySnapshot } from "./collector.ts";
import { MetricFamily } from "./metric_family.ts";
import type { MetricCells, MetricStorage } from "./metric_storage.ts";

/**
 * One counter series: a value that only goes up. Obtain it from `CounterFamily.labels()` once
 * and keep it; `inc()` is a compare and an add.
 */
export class Counter {
  readonly #cells: MetricCells;

  /** Created by `CounterFamily`; not constructed directly. */
  constructor(cells: MetricCells) {
    this.#cells = cells;
  }

  /**
   * Adds `n` (default 1).
   *
   * @throws {RangeError} when `n` is negative or NaN
   */
  inc(n = 1): void {
    if (!(n >= 0)) {
      throw new RangeError(`A counter only goes up: cannot add ${n}; use a gauge instead`);
    }
    this.#cells.add(0, n);
  }

  /** The current value. */
  get value(): number {
    return this.#cells.get(0);
  }
}

/**
 * A counter family: one `Counter` per tuple of label values. Create it with
 * `MetricsRegistry.counter()`.
 *
 * @example
 * ```ts
 * const requests = registry.counter("skiff_requests_total", "Requests.", ["cluster", "code"]);
 * const ok = requests.labels("payments", "200"); // keep this handle
 * ok.inc();
 * ```
 */
export class CounterFamily<L extends readonly string[] = readonly string[]>
  extends MetricFamily<Counter, L> {
  /** Always `"counter"`. */
  readonly type = "counter" as const;

  /** Use `MetricsRegistry.counter()`; `name` must already end in `_total`. */
  constructor(name: string, help: string, labelNames: L, storage: MetricStorage) {
    super(name, help, labelNames, storage, 1);
  }

  /** Reads every child's value. */
  collect(): FamilySnapshot {
    return this.collectScalars("counter", (child) => child.value);
  }

  /** Creates a child over its cell. */
  protected newChild(cells: MetricCells): Counter {
    return new Counter(cells);
  }
}
