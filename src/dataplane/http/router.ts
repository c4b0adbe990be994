import type { HeaderMatchConfig, RouteConfig } from "../../config/schema.ts";
import type { Rng } from "../../core/rng.ts";
import { joinedHeader, type RouteBranch, TrafficSplit } from "./traffic_split.ts";

type HeaderTest = (headers: string[]) => boolean;

/** A route ready for matching: its config plus precompiled predicates. */
export class CompiledRoute {
  readonly name: string;
  readonly config: RouteConfig;
  readonly #authority: ((host: string) => boolean) | null;
  readonly #path: ((path: string) => boolean) | null;
  readonly #methods: ReadonlySet<string> | null;
  readonly #headers: HeaderTest[];
  readonly #clusters: string[];
  readonly #split: TrafficSplit;

  constructor(config: RouteConfig, index: number) {
    this.config = config;
    this.name = config.name ?? `route_${index}`;
    const m = config.match;
    this.#authority = m.authority === undefined ? null : authorityTest(m.authority);
    this.#path = m.prefix !== undefined
      ? (p) => p.startsWith(m.prefix!)
      : m.path !== undefined
      ? (p) => p === m.path
      : m.regex !== undefined
      ? regexTest(new RegExp(`^(?:${m.regex})$`)) // the whole path, as documented
      : null;
    this.#methods = m.methods ? new Set(m.methods) : null;
    this.#headers = m.headers.map(headerTest);
    this.#split = new TrafficSplit(config);
    this.#clusters = [...new Set(this.#split.branches.map((b) => b.cluster))];
  }

  /** Every cluster this route can send to (each once). */
  get clusters(): readonly string[] {
    return this.#clusters;
  }

  /**
   * True when the request matches every condition of this route.
   *
   * @param path the path without the query string
   */
  matches(method: string, host: string, path: string, headers: string[]): boolean {
    if (this.#methods !== null && !this.#methods.has(method)) return false;
    if (this.#path !== null && !this.#path(path)) return false;
    if (this.#authority !== null && !this.#authority(host)) return false;
    for (const t of this.#headers) if (!t(headers)) return false;
    return true;
  }

  /** The branches of the route's split, in config order (one for a `cluster` route). */
  get branches(): readonly RouteBranch[] {
    return this.#split.branches;
  }

  /**
   * Picks the branch (cluster, and endpoint subset) of a request: by weight when the route
   * splits traffic, kept per user when it is `sticky` (see `TrafficSplit`).
   *
   * @param headers the request's fields, for a sticky header or cookie
   */
  pickBranch(headers: string[], rng: Rng): RouteBranch {
    return this.#split.pick(headers, rng);
  }

  /** Picks the target cluster, by weight when the route splits traffic (not sticky). */
  pickCluster(rng: Rng): string {
    return this.#split.pick([], rng).cluster;
  }

  /** Applies `prefix_rewrite` to a request target (path and query). */
  rewrite(target: string): string {
    const prefix = this.config.match.prefix;
    const to = this.config.prefix_rewrite;
    if (to === undefined || prefix === undefined || !target.startsWith(prefix)) return target;
    return to + target.slice(prefix.length);
  }
}

function regexTest(re: RegExp): (s: string) => boolean {
  return (s) => re.test(s);
}

/** Host matching: exact or `*.suffix`, case-insensitive, port ignored. */
function authorityTest(pattern: string): (host: string) => boolean {
  const p = pattern.toLowerCase();
  if (p.startsWith("*.")) {
    const suffix = p.slice(1);
    return (h) => {
      const host = stripPort(h).toLowerCase();
      return host.length > suffix.length && host.endsWith(suffix);
    };
  }
  return (h) => stripPort(h).toLowerCase() === p;
}

/** Removes a `:port` suffix from an authority (`[v6]:port` aware). */
export function stripPort(authority: string): string {
  if (authority.startsWith("[")) {
    const end = authority.indexOf("]");
    return end > 0 ? authority.slice(0, end + 1) : authority;
  }
  const colon = authority.lastIndexOf(":");
  return colon >= 0 ? authority.slice(0, colon) : authority;
}

export function headerTest(h: HeaderMatchConfig): HeaderTest {
  const name = h.name;
  let test: (v: string | undefined) => boolean;
  if (h.present !== undefined) test = (v) => (v !== undefined) === h.present;
  else if (h.exact !== undefined) test = (v) => v === h.exact;
  else if (h.prefix !== undefined) test = (v) => v !== undefined && v.startsWith(h.prefix!);
  else {
    const re = new RegExp(`^(?:${h.regex})$`); // the whole value, as Envoy matches
    test = (v) => v !== undefined && re.test(v);
  }
  return (headers) => test(joinedHeader(headers, name)) !== h.invert;
}

/**
 * The ordered route table of one listener: the first matching route wins, as in Envoy.
 *
 * @example
 * ```ts
 * const router = new Router(listener.routes);
 * const route = router.match("GET", "api.local", "/v1/users", headers);
 * ```
 */
export class Router {
  readonly routes: readonly CompiledRoute[];

  constructor(routes: readonly RouteConfig[]) {
    this.routes = routes.map((r, i) => new CompiledRoute(r, i));
  }

  /** The first route matching the request, or `undefined` (→ 404). */
  match(
    method: string,
    authority: string,
    path: string,
    headers: string[],
  ): CompiledRoute | undefined {
    const q = path.indexOf("?");
    const p = q >= 0 ? path.slice(0, q) : path;
    for (const r of this.routes) if (r.matches(method, authority, p, headers)) return r;
    return undefined;
  }
}
