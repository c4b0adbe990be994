import { assertLabelNames, assertMetricName } from "./_names.ts";
import { DEFAULT_LATENCY_BUCKETS, normalizeBuckets } from "./buckets.ts";
import { CallbackGauge } from "./callback_gauge.ts";
import { CallbackGaugeFamily, type CallbackSeries } from "./callback_gauge_family.ts";
import type { Collector, FamilySnapshot } from "./collector.ts";
import { CounterFamily } from "./counter.ts";
import { GaugeFamily } from "./gauge.ts";
import { HistogramFamily } from "./histogram.ts";
import { heapMetricStorage, type MetricStorage } from "./metric_storage.ts";

/** Options of `MetricsRegistry`. */
export interface MetricsRegistryOptions {
  /** Where series values live; defaults to `heapMetricStorage`. */
  storage?: MetricStorage;
}

// deno-lint-ignore no-explicit-any
type FamilyClass = abstract new (...args: any[]) => Collector;

/**
 * Holds every metric family of one skiff process and collects them at scrape time. Passed to
 * the components that record metrics; never a global.
 *
 * Registering a name twice returns the existing family when kind, help, label names and
 * buckets match, so independent components may declare the same metric.
 *
 * @example
 * ```ts
 * const registry = new MetricsRegistry();
 * const requests = registry.counter("skiff_requests", "Requests handled.", ["listener"]);
 * requests.labels("ingress").inc(); // exposed as skiff_requests_total{listener="ingress"} 1
 * const text = renderPrometheus(registry);
 * ```
 */
export class MetricsRegistry {
  readonly #storage: MetricStorage;
  readonly #collectors = new Map<string, Collector>();
  /** Every sample name in use (family name, `_bucket`, `_sum`, `_count`) → owning family. */
  readonly #sampleNames = new Map<string, string>();
  readonly #beforeCollect: (() => void)[] = [];

  /** Creates an empty registry. */
  constructor(options: MetricsRegistryOptions = {}) {
    this.#storage = options.storage ?? heapMetricStorage;
  }

  /**
   * Registers (or returns the existing) counter family.
   *
   * @param name metric name; `_total` is appended unless it already ends with it
   * @param help one line describing the metric
   * @param labelNames label names, in the order `labels()` takes their values
   * @throws {TypeError} on an invalid name or label name, or when the name is taken by an
   *   incompatible metric
   */
  counter<const L extends readonly string[] = []>(
    name: string,
    help: string,
    labelNames: L = [] as unknown as L,
  ): CounterFamily<L> {
    const full = name.endsWith("_total") ? name : `${name}_total`;
    return this.#register(full, help, labelNames, CounterFamily, [full], undefined, () => {
      return new CounterFamily(full, help, labelNames, this.#storage);
    });
  }

  /**
   * Registers (or returns the existing) gauge family.
   *
   * @param name metric name
   * @param help one line describing the metric
   * @param labelNames label names, in the order `labels()` takes their values
   * @throws {TypeError} on an invalid name or label name, or when the name is taken by an
   *   incompatible metric
   */
  gauge<const L extends readonly string[] = []>(
    name: string,
    help: string,
    labelNames: L = [] as unknown as L,
  ): GaugeFamily<L> {
    return this.#register(name, help, labelNames, GaugeFamily, [name], undefined, () => {
      return new GaugeFamily(name, help, labelNames, this.#storage);
    });
  }

  /**
   * Registers (or returns the existing) histogram family with fixed bucket bounds.
   *
   * @param name metric name (for latencies, in seconds: `..._seconds`)
   * @param help one line describing the metric
   * @param labelNames label names (not `le`), in the order `labels()` takes their values
   * @param buckets finite upper bounds, strictly ascending; `DEFAULT_LATENCY_BUCKETS` if omitted
   * @throws {TypeError} on an invalid name or label name, or when the name is taken by an
   *   incompatible metric (including different buckets)
   * @throws {RangeError} on invalid buckets
   */
  histogram<const L extends readonly string[] = []>(
    name: string,
    help: string,
    labelNames: L = [] as unknown as L,
    buckets: readonly number[] = DEFAULT_LATENCY_BUCKETS,
  ): HistogramFamily<L> {
    const bounds = normalizeBuckets(buckets);
    const samples = [name, `${name}_bucket`, `${name}_sum`, `${name}_count`];
    const same = (existing: Collector) => {
      const old = (existing as HistogramFamily).bounds;
      return old.length === bounds.length && old.every((b, i) => b === bounds[i]);
    };
    return this.#register(name, help, labelNames, HistogramFamily, samples, same, () => {
      return new HistogramFamily(name, help, labelNames, bounds, this.#storage);
    });
  }

  /**
   * Registers a gauge without labels whose value `read()` computes at every scrape. A callback
   * gauge is owned by one caller, so registering its name again throws.
   *
   * @param name metric name
   * @param help one line describing the metric
   * @param read returns the current value; it runs during `collect()`, and what it throws
   *   propagates to the scrape
   * @throws {TypeError} on an invalid name or when the name is already registered
   */
  gaugeFn(name: string, help: string, read: () => number): CallbackGauge {
    return this.#addCallback(name, [], () => new CallbackGauge(name, help, read));
  }

  /**
   * Registers a gauge family whose series `read()` lists at every scrape, for values another
   * component owns. Like a callback gauge, it is owned by one caller, so registering its name
   * again throws.
   *
   * @param name metric name
   * @param help one line describing the metric
   * @param labelNames label names, in the order each series lists its values
   * @param read returns the current series; it runs during `collect()`, and what it throws
   *   propagates to the scrape
   * @throws {TypeError} on an invalid name or label name, or when the name is already
   *   registered
   */
  gaugeFamilyFn<const L extends readonly string[]>(
    name: string,
    help: string,
    labelNames: L,
    read: () => Iterable<CallbackSeries<L>>,
  ): CallbackGaugeFamily<L> {
    return this.#addCallback(
      name,
      labelNames,
      () => new CallbackGaugeFamily(name, help, labelNames, read),
    );
  }

  /**
   * Runs `hook` at the start of every `collect()` — e.g. to bring in series that other
   * isolates created in shared storage.
   */
  beforeCollect(hook: () => void): void {
    this.#beforeCollect.push(hook);
  }

  /** The family registered under exactly this name, if any. */
  family(name: string): Collector | undefined {
    return this.#collectors.get(name);
  }

  /** Whether a family with exactly this name is registered. */
  has(name: string): boolean {
    return this.#collectors.has(name);
  }

  /**
   * Reads every family, sorted by name; callback gauges run now. Used by exposition formats at
   * scrape time.
   */
  collect(): FamilySnapshot[] {
    for (const hook of this.#beforeCollect) hook();
    const names = [...this.#collectors.keys()].sort();
    return names.map((n) => this.#collectors.get(n)!.collect());
  }

  #register<T extends Collector>(
    name: string,
    help: string,
    labelNames: readonly string[],
    kind: FamilyClass,
    sampleNames: readonly string[],
    sameExtra: ((existing: Collector) => boolean) | undefined,
    make: () => T,
  ): T {
    assertMetricName(name);
    const reserved = kind === HistogramFamily ? ["le"] : [];
    assertLabelNames(name, labelNames, reserved);
    const existing = this.#collectors.get(name);
    if (existing) {
      const problem = !(existing instanceof kind) || existing instanceof CallbackGaugeFamily
        ? `as a ${describe(existing)}`
        : existing.help !== help
        ? `with help ${JSON.stringify(existing.help)}`
        : !sameLabels(existing.labelNames, labelNames)
        ? `with labels [${existing.labelNames.join(", ")}]`
        : sameExtra && !sameExtra(existing)
        ? `with buckets [${(existing as HistogramFamily).bounds.join(", ")}]`
        : undefined;
      if (problem === undefined) return existing as T;
      throw new TypeError(
        `Metric ${JSON.stringify(name)} is already registered ${problem}; register it the same ` +
          "way everywhere or pick another name",
      );
    }
    const family = make();
    this.#add(family, sampleNames);
    return family;
  }

  #addCallback<T extends Collector>(
    name: string,
    labelNames: readonly string[],
    make: () => T,
  ): T {
    assertMetricName(name);
    assertLabelNames(name, labelNames);
    if (this.#sampleNames.has(name)) {
      throw new TypeError(
        `Metric ${JSON.stringify(name)} is already registered; a callback gauge needs a name ` +
          "of its own",
      );
    }
    const gauge = make();
    this.#add(gauge, [name]);
    return gauge;
  }

  #add(collector: Collector, sampleNames: readonly string[]): void {
    for (const sample of sampleNames) {
      const owner = this.#sampleNames.get(sample);
      if (owner !== undefined) {
        throw new TypeError(
          `Metric ${JSON.stringify(collector.name)} would expose ${JSON.stringify(sample)}, ` +
            `which metric ${JSON.stringify(owner)} already uses; pick another name`,
        );
      }
    }
    for (const sample of sampleNames) this.#sampleNames.set(sample, collector.name);
    this.#collectors.set(collector.name, collector);
  }
}

function sameLabels(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function describe(c: Collector): string {
  return c instanceof CallbackGaugeFamily ? "callback gauge" : c.type;
}
