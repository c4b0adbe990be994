/**
 * The endpoints of a cluster whose labels include all of a set of labels (a route's
 * `weighted_clusters[].subset`, e.g. `{ version: v2 }`).
 *
 * @example
 * ```ts
 * const v2 = new EndpointSubset({ version: "v2" });
 * v2.matches({ version: "v2", zone: "a" }); // true
 * v2.key; // the same for every subset of the same labels, whatever their order
 * ```
 */
export class EndpointSubset {
  /** The labels an endpoint must carry, with these values. */
  readonly labels: Readonly<Record<string, string>>;
  /** A canonical text of the labels (sorted by name): equal subsets have equal keys. */
  readonly key: string;
  readonly #entries: readonly (readonly [string, string])[];

  /**
   * @param labels the labels to match; at least one
   * @throws {RangeError} when `labels` is empty (use no subset for the whole cluster)
   */
  constructor(labels: Readonly<Record<string, string>>) {
    const entries = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (entries.length === 0) {
      throw new RangeError("An endpoint subset needs at least one label: use none for all");
    }
    this.labels = Object.freeze(Object.fromEntries(entries));
    this.#entries = entries;
    this.key = JSON.stringify(entries);
  }

  /** True when `labels` (an endpoint's) include every label of this subset. */
  matches(labels: Readonly<Record<string, string>>): boolean {
    for (const [name, value] of this.#entries) {
      if (!Object.hasOwn(labels, name) || labels[name] !== value) return false;
    }
    return true;
  }

  /** The labels as `name=value,…`, for messages and logs. */
  toString(): string {
    return this.#entries.map(([n, v]) => `${n}=${v}`).join(",");
  }
}
