import { CallbackGaugeFamily } from "./callback_gauge_family.ts";

/**
 * A gauge without labels whose value is computed by a callback at scrape time (process memory,
 * queue lengths owned by another component). Create it with `MetricsRegistry.gaugeFn()`.
 */
export class CallbackGauge extends CallbackGaugeFamily<readonly []> {
  /** Use `MetricsRegistry.gaugeFn()`. */
  constructor(name: string, help: string, read: () => number) {
    super(name, help, [], () => [{ labelValues: [], value: read() }]);
  }
}
