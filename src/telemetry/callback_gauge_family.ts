import type { Collector, FamilySnapshot, ScalarSeries } from "./collector.ts";
import type { LabelValues } from "./metric_family.ts";

/** One series a `CallbackGaugeFamily` reads: its label values and current value. */
export interface CallbackSeries<L extends readonly string[]> {
  /** One value per label name, in order. */
  readonly labelValues: LabelValues<L>;
  /** The current value. */
  readonly value: number;
}

/**
 * A gauge family whose series a callback lists at scrape time: values another component owns
 * (requests in flight per cluster, open connections per pool), read without being copied
 * into the registry on the request path. Create it with `MetricsRegistry.gaugeFamilyFn()`.
 *
 * @example
 * ```ts
 * registry.gaugeFamilyFn("skiff_queue_length", "Queued items.", ["queue"], () =>
 *   [...queues].map((q) => ({ labelValues: [q.name], value: q.length })));
 * ```
 */
export class CallbackGaugeFamily<L extends readonly string[] = readonly string[]>
  implements Collector {
  /** Always `"gauge"`. */
  readonly type = "gauge" as const;
  /** The family name. */
  readonly name: string;
  /** One line of help text. */
  readonly help: string;
  /** Label names, in order. */
  readonly labelNames: L;
  readonly #read: () => Iterable<CallbackSeries<L>>;

  /** Use `MetricsRegistry.gaugeFamilyFn()` (or `gaugeFn()`, without labels). */
  constructor(
    name: string,
    help: string,
    labelNames: L,
    read: () => Iterable<CallbackSeries<L>>,
  ) {
    this.name = name;
    this.help = help;
    this.labelNames = Object.freeze([...labelNames]) as unknown as L;
    this.#read = read;
  }

  /**
   * Calls the callback once and returns the series it lists.
   *
   * @throws {TypeError} when a series has not one label value per label name; whatever the
   *   callback throws propagates too, failing the scrape
   */
  collect(): FamilySnapshot {
    const series: ScalarSeries[] = [];
    for (const s of this.#read()) {
      if (s.labelValues.length !== this.labelNames.length) {
        throw new TypeError(
          `Metric "${this.name}" has ${this.labelNames.length} label(s) but its callback ` +
            `listed a series with ${s.labelValues.length} value(s); list one value per label`,
        );
      }
      series.push(s);
    }
    return {
      type: "gauge",
      name: this.name,
      help: this.help,
      labelNames: this.labelNames,
      series,
    };
  }
}
