import type { RouteConfig } from "../../config/schema.ts";
import type { Rng } from "../../core/rng.ts";
import { EndpointSubset } from "../balance/endpoint_subset.ts";
import { hash32 } from "../balance/hash32.ts";

/** One branch of a route's traffic split: a cluster, or a label subset of its endpoints. */
export interface RouteBranch {
  /** Position in `weighted_clusters` (0 for a route with a single `cluster`). */
  readonly index: number;
  /** The cluster's name. */
  readonly cluster: string;
  /** The endpoints of the cluster this branch is limited to; all of them when undefined. */
  readonly subset: EndpointSubset | undefined;
  /**
   * The `set-cookie` value the response must carry (a sticky cookie the request did not have,
   * or had for no valid branch); undefined when nothing needs remembering.
   */
  readonly setCookie: string | undefined;
}

const TWO_POW_32 = 2 ** 32;

/**
 * How a route chooses among its `weighted_clusters`: a uniform draw over the weights, or with
 * `sticky` set, a draw decided by the request — the hash of a header's value (the same value
 * always lands on the same branch while the weights stay; values spread over branches in
 * proportion to the weights), or a cookie naming the branch (set on the response when the
 * request has none valid). A request without the header or cookie gets the random draw.
 *
 * @example
 * ```ts
 * const split = new TrafficSplit(route); // weighted_clusters: api v1 90, api v2 10
 * const branch = split.pick(req.headers, rng);
 * cluster.pick(undefined, undefined, branch.subset);
 * ```
 */
export class TrafficSplit {
  /** The branches in config order (without `setCookie`). */
  readonly branches: readonly RouteBranch[];
  /** The same branches, each carrying the sticky cookie to set (cookie stickiness only). */
  readonly #cookied: readonly RouteBranch[];
  readonly #cumulative: readonly number[];
  readonly #total: number;
  /** The last branch with a weight above 0 (what rounding at the top end falls to). */
  readonly #lastPositive: number;
  readonly #header: string | undefined;
  readonly #cookie: string | undefined;
  /** Branch index by the id its cookie carries (`branchId`). */
  readonly #byId = new Map<string, number>();

  /** Compiles the split of route `config` (a `cluster` route has one branch). */
  constructor(config: RouteConfig) {
    const weighted = config.weighted_clusters ?? [{ cluster: config.cluster!, weight: 1 }];
    this.branches = weighted.map((w, index) => ({
      index,
      cluster: w.cluster,
      subset: w.subset === undefined ? undefined : new EndpointSubset(w.subset),
      setCookie: undefined,
    }));
    let sum = 0;
    this.#cumulative = weighted.map((w) => (sum += w.weight));
    this.#total = sum;
    this.#lastPositive = weighted.findLastIndex((w) => w.weight > 0);
    // Stickiness needs something to choose between.
    const sticky = config.weighted_clusters !== undefined && weighted.length > 1
      ? config.sticky
      : undefined;
    this.#header = sticky?.header;
    const cookie = sticky?.cookie;
    this.#cookie = cookie?.name;
    weighted.forEach((w, i) => {
      const id = branchId(w.cluster, w.subset);
      if (!this.#byId.has(id)) this.#byId.set(id, i); // a repeated branch: the first one
    });
    this.#cookied = cookie === undefined ? [] : this.branches.map((b) => ({
      ...b,
      setCookie: `${cookie.name}=${branchId(weighted[b.index].cluster, weighted[b.index].subset)}` +
        (cookie.ttl > 0 ? `; Max-Age=${Math.ceil(cookie.ttl / 1000)}` : "") +
        "; Path=/; HttpOnly",
    }));
  }

  /**
   * Chooses the branch of a request.
   *
   * @param headers the request's fields (flat list, lower-case names)
   * @param rng the uniform source of the random draw
   */
  pick(headers: string[], rng: Rng): RouteBranch {
    if (this.branches.length === 1) return this.branches[0];
    if (this.#header !== undefined) {
      const value = joinedHeader(headers, this.#header);
      if (value) return this.branches[this.#at(hash32(value) / TWO_POW_32)];
    } else if (this.#cookie !== undefined) {
      const value = cookieValue(headers, this.#cookie);
      const i = value === undefined ? undefined : this.#byId.get(value);
      if (i !== undefined && this.#weight(i) > 0) return this.branches[i];
      return this.#cookied[this.#at(rng())];
    }
    return this.branches[this.#at(rng())];
  }

  /** The branch at `u` in [0, 1) on the line of cumulative weights. */
  #at(u: number): number {
    const x = u * this.#total;
    const c = this.#cumulative;
    for (let i = 0; i < c.length; i++) if (x < c[i]) return i;
    return this.#lastPositive;
  }

  #weight(i: number): number {
    return this.#cumulative[i] - (i === 0 ? 0 : this.#cumulative[i - 1]);
  }
}

/** The values of header `name`, joined by "," as one field (undefined when absent). */
export function joinedHeader(headers: string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) {
      value = value === undefined ? headers[i + 1] : value + "," + headers[i + 1];
    }
  }
  return value;
}

/**
 * The value of cookie `name` in the request's `cookie` fields (HTTP/2 may split them over
 * several), or undefined.
 */
export function cookieValue(headers: string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== "cookie") continue;
    const line = headers[i + 1];
    let at = 0;
    while (at < line.length) {
      let end = line.indexOf(";", at);
      if (end < 0) end = line.length;
      while (at < end && (line.charCodeAt(at) === 32 || line.charCodeAt(at) === 9)) at++;
      if (line.startsWith(name, at) && line.charCodeAt(at + name.length) === 61) { // "="
        return line.slice(at + name.length + 1, end).trim();
      }
      at = end + 1;
    }
  }
  return undefined;
}

/**
 * The id a sticky cookie names a branch by: a hash of its cluster and subset (base 36), so it
 * keeps naming the same branch when branches are added, removed or reordered by a reload.
 */
export function branchId(cluster: string, subset: Record<string, string> | undefined): string {
  const labels = subset === undefined
    ? ""
    : Object.keys(subset).sort().map((k) => `${k}=${subset[k]}`).join(",");
  return hash32(`${cluster}\u0000${labels}`).toString(36);
}
