// Name rules of the Prometheus data model, shared by the metric kinds and the registry.

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Throws `TypeError` unless `name` is a valid Prometheus metric name. */
export function assertMetricName(name: string): void {
  if (!METRIC_NAME.test(name)) {
    throw new TypeError(
      `Invalid metric name ${JSON.stringify(name)}: use letters, digits, "_" and ":" ` +
        "and do not start with a digit",
    );
  }
}

/** Throws `TypeError` unless every label name is valid, not reserved and not repeated. */
export function assertLabelNames(
  metric: string,
  labelNames: readonly string[],
  reserved: readonly string[] = [],
): void {
  const seen = new Set<string>();
  for (const label of labelNames) {
    if (!LABEL_NAME.test(label) || label.startsWith("__") || reserved.includes(label)) {
      throw new TypeError(
        `Invalid label name ${JSON.stringify(label)} for metric ${JSON.stringify(metric)}: ` +
          'use letters, digits and "_", do not start with "__"' +
          (reserved.length ? ` and do not use ${reserved.map((r) => `"${r}"`).join(", ")}` : ""),
      );
    }
    if (seen.has(label)) {
      throw new TypeError(
        `Label name ${JSON.stringify(label)} appears twice for metric ${JSON.stringify(metric)}`,
      );
    }
    seen.add(label);
  }
}
