/** The Prometheus type of a metric family. */
export type MetricType = "counter" | "gauge" | "histogram";

/** The value of one counter or gauge series at collection time. */
export interface ScalarSeries {
  /** Label values, in the order of the family's label names. */
  readonly labelValues: readonly string[];
  /** The current value. */
  readonly value: number;
}

/** The state of one histogram series at collection time. */
export interface HistogramSeries {
  /** Label values, in the order of the family's label names. */
  readonly labelValues: readonly string[];
  /** Cumulative counts: `buckets[i]` counts observations `<= bounds[i]`; the last is `+Inf`. */
  readonly buckets: readonly number[];
  /** Sum of all observed values. */
  readonly sum: number;
  /** Number of observations (equal to the `+Inf` bucket). */
  readonly count: number;
}

/** A consistent-enough snapshot of one metric family, the input of every exposition format. */
export type FamilySnapshot =
  | {
    readonly type: "counter" | "gauge";
    readonly name: string;
    readonly help: string;
    readonly labelNames: readonly string[];
    readonly series: readonly ScalarSeries[];
  }
  | {
    readonly type: "histogram";
    readonly name: string;
    readonly help: string;
    readonly labelNames: readonly string[];
    /** Finite upper bounds, ascending (the `+Inf` bucket is implied). */
    readonly bounds: readonly number[];
    readonly series: readonly HistogramSeries[];
  };

/** Anything the registry can collect at scrape time: a metric family or a callback gauge. */
export interface Collector {
  /** The family name as exposed (counters include the `_total` suffix). */
  readonly name: string;
  /** One line of help text. */
  readonly help: string;
  /** The Prometheus type. */
  readonly type: MetricType;
  /** Label names, in order. */
  readonly labelNames: readonly string[];
  /** Reads the current values; called at scrape time only, never on the request path. */
  collect(): FamilySnapshot;
}
