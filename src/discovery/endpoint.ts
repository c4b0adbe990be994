import { formatAddress, type SocketAddress } from "../config/address.ts";

/**
 * One reachable instance of a cluster, as discovery reports it. Immutable: a change of
 * weight or labels arrives as a new `Endpoint` with the same `key` in a new `EndpointSet`.
 */
export interface Endpoint {
  /** `host:port` as `formatAddress` writes it; unique within one endpoint set. */
  readonly key: string;
  /** Where to connect. */
  readonly address: SocketAddress;
  /** Relative share of traffic, a finite number above 0 (config allows 1 to 1,000,000). */
  readonly weight: number;
  /** Free-form metadata such as `version` or `zone`. */
  readonly labels: Readonly<Record<string, string>>;
  /** The SPIFFE ID its sidecar must present on a mutual-TLS hop, when known. */
  readonly spiffeId?: string;
}

/**
 * The shape an endpoint is described in before it becomes an `Endpoint`: the cluster
 * config's endpoint entry, with `weight` (default 1) and `labels` (default none) optional.
 */
export interface EndpointSpec {
  /** Where to connect. */
  readonly address: SocketAddress;
  /** Relative share of traffic; defaults to 1. */
  readonly weight?: number;
  /** Free-form metadata; defaults to none. */
  readonly labels?: Readonly<Record<string, string>>;
  /** The SPIFFE ID its sidecar must present (mutual TLS); none by default. */
  readonly spiffeId?: string;
}

/**
 * Builds a frozen `Endpoint` from its description, copying the address and labels so that
 * later changes to `spec` do not leak into it.
 *
 * @throws {RangeError} when the weight is not a finite number above 0, or the port is not
 *   an integer from 1 to 65535
 * @example
 * ```ts
 * const ep = toEndpoint({ address: { hostname: "10.0.0.7", port: 8080 }, weight: 3 });
 * ep.key; // "10.0.0.7:8080"
 * ```
 */
export function toEndpoint(spec: EndpointSpec): Endpoint {
  const weight = spec.weight ?? 1;
  const { hostname, port } = spec.address;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(
      `Endpoint port ${JSON.stringify(port)} of "${hostname}" is out of range: use 1 to 65535`,
    );
  }
  const address = Object.freeze({ hostname, port });
  const key = formatAddress(address);
  if (!Number.isFinite(weight) || weight <= 0) {
    throw new RangeError(
      `Endpoint "${key}" has weight ${JSON.stringify(weight)}: use a finite number above 0`,
    );
  }
  const labels = Object.freeze({ ...spec.labels });
  return Object.freeze(
    spec.spiffeId ? { key, address, weight, labels, spiffeId: spec.spiffeId } : {
      key,
      address,
      weight,
      labels,
    },
  );
}

/** True when two endpoints have the same key, weight, labels and SPIFFE ID. */
export function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  if (a.key !== b.key || a.weight !== b.weight || a.spiffeId !== b.spiffeId) return false;
  const aKeys = Object.keys(a.labels);
  if (aKeys.length !== Object.keys(b.labels).length) return false;
  return aKeys.every((k) => Object.hasOwn(b.labels, k) && a.labels[k] === b.labels[k]);
}
