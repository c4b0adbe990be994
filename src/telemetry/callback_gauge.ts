import type { Collector, FamilySnapshot } from "./collector.ts";

/**
 * A gauge without labels whose value is computed by a callback at scrape time (process memory,
 * queue lengths owned by another component). Create it with `MetricsRegistry.gaugeFn()`.
 */
export class CallbackGauge implements Collector {
  /** Always `"gauge"`. */
  readonly type = "gauge" as const;
  /** The family name. */
  readonly name: string;
  /** One line of help text. */
  readonly help: string;
  /** Always empty. */
  readonly labelNames: readonly string[] = Object.freeze([]);
  readonly #read: () => number;

  /** Use `MetricsRegistry.gaugeFn()`. */
  constructor(name: string, help: string, read: () => number) {
    this.name = name;
    this.help = help;
    this.#read = read;
  }

  /** Calls the callback once and returns its value as the only series. */
  collect(): FamilySnapshot {
    return {
      type: "gauge",
      name: this.name,
      help: this.help,
      labelNames: this.labelNames,
      series: [{ labelValues: [], value: this.#read() }],
    };
  }
}
