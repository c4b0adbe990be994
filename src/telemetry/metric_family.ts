import type { Collector, FamilySnapshot, MetricType } from "./collector.ts";
import type { MetricCells, MetricStorage } from "./metric_storage.ts";

/** A tuple of label values matching a tuple of label names, one string per name. */
export type LabelValues<L extends readonly string[]> = { readonly [K in keyof L]: string };

/** One series of a family: its label values and the child handle updating it. */
export interface FamilyEntry<C> {
  /** Label values, in the order of the family's label names (frozen). */
  readonly labelValues: readonly string[];
  /** The child handle. */
  readonly child: C;
}

/**
 * The common part of counter, gauge and histogram families: label names, and one cached child
 * per distinct tuple of label values. Look a child up once with `labels()` and keep it; the
 * lookup builds a key string, the child's update methods do not.
 */
export abstract class MetricFamily<C, L extends readonly string[] = readonly string[]>
  implements Collector {
  /** The family name as exposed. */
  readonly name: string;
  /** One line of help text. */
  readonly help: string;
  /** Label names, in order. */
  readonly labelNames: L;
  /** The Prometheus type. */
  abstract readonly type: MetricType;
  readonly #storage: MetricStorage;
  readonly #cellCount: number;
  readonly #children = new Map<string, FamilyEntry<C>>();

  /** Subclasses pass how many storage cells each child needs. */
  protected constructor(
    name: string,
    help: string,
    labelNames: L,
    storage: MetricStorage,
    cellCount: number,
  ) {
    this.name = name;
    this.help = help;
    this.labelNames = Object.freeze([...labelNames]) as unknown as L;
    this.#storage = storage;
    this.#cellCount = cellCount;
  }

  /**
   * Returns the child for these label values, creating it (at zero) on first use.
   *
   * @param values one string per label name, in order
   * @returns the same child object for the same values, to be kept by the caller
   * @throws {TypeError} when the number of values differs from the number of label names
   */
  labels(...values: LabelValues<L>): C {
    this.#checkArity(values);
    const key = seriesKey(values);
    const hit = this.#children.get(key);
    if (hit) return hit.child;
    for (const v of values) {
      if (typeof v !== "string") {
        throw new TypeError(
          `Label values of metric "${this.name}" must be strings, got ${typeof v} ${String(v)}`,
        );
      }
    }
    const labelValues = Object.freeze([...values]);
    const child = this.newChild(
      this.#storage.allocate(this.name, labelValues, this.#cellCount),
    );
    this.#children.set(key, { labelValues, child });
    return child;
  }

  /**
   * Forgets the child for these label values so it is no longer exposed (for example when a
   * cluster is removed). A handle kept elsewhere still works but is no longer collected.
   *
   * @returns whether such a child existed
   */
  remove(...values: LabelValues<L>): boolean {
    this.#checkArity(values);
    return this.#children.delete(seriesKey(values));
  }

  /** Forgets every child. */
  clear(): void {
    this.#children.clear();
  }

  /** Number of children (distinct label value tuples). */
  get size(): number {
    return this.#children.size;
  }

  /** Reads the current values of every child. */
  abstract collect(): FamilySnapshot;

  /** Creates the child handle over freshly allocated cells. */
  protected abstract newChild(cells: MetricCells): C;

  /**
   * The children in creation order; a family without labels always has its one child, so
   * that it is exposed at zero before the first update.
   */
  protected entries(): Iterable<FamilyEntry<C>> {
    if (this.labelNames.length === 0 && this.#children.size === 0) {
      this.labels(...([] as unknown as LabelValues<L>));
    }
    return this.#children.values();
  }

  /** Snapshot of a counter or gauge family, reading each child with `read`. */
  protected collectScalars(type: "counter" | "gauge", read: (child: C) => number): FamilySnapshot {
    const series = [];
    for (const { labelValues, child } of this.entries()) {
      series.push({ labelValues, value: read(child) });
    }
    return { type, name: this.name, help: this.help, labelNames: this.labelNames, series };
  }

  #checkArity(values: readonly unknown[]): void {
    if (values.length !== this.labelNames.length) {
      throw new TypeError(
        `Metric "${this.name}" has ${this.labelNames.length} label(s) ` +
          `[${this.labelNames.join(", ")}] but got ${values.length} value(s); ` +
          "pass one value per label name",
      );
    }
  }
}

// Unambiguous key for a tuple of strings: each value prefixed by its length.
function seriesKey(values: readonly string[]): string {
  if (values.length === 1) return values[0];
  let key = "";
  for (const v of values) key += `${v.length}:${v}`;
  return key;
}
