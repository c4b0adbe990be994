import type { SpiffeId } from "./spiffe_id.ts";
import { compileMatcher, type SpiffeIdPredicate, type SpiffeMatcher } from "./spiffe_matcher.ts";

/** A path condition of an authorization rule. */
export type PathMatcher = { exact: string } | { prefix: string };

/**
 * One authorization rule as configured: it applies to a request when every condition it
 * names holds (an absent condition holds for all): the peer's SPIFFE ID matches one of
 * `from`, the method is one of `methods`, the path matches one of `paths`.
 */
export interface AuthzRule {
  /** Default `allow`. */
  action?: "allow" | "deny";
  from?: readonly SpiffeMatcher[];
  /** Upper-case method names. */
  methods?: readonly string[];
  paths?: readonly PathMatcher[];
}

/** What a policy is asked about one request (or, for TCP, one connection: no method/path). */
export interface AuthzRequest {
  /** The peer's SPIFFE ID from its verified certificate; undefined when it has none. */
  peer: SpiffeId | undefined;
  method?: string;
  /** The request path without the query string. */
  path?: string;
}

/** A policy's verdict, with the rule that decided it (`-1`: no rule matched). */
export interface AuthzDecision {
  allowed: boolean;
  /** Index of the deciding rule in the configured list, or -1 for the default deny. */
  rule: number;
}

interface CompiledRule {
  index: number;
  deny: boolean;
  from: SpiffeIdPredicate[] | undefined;
  methods: ReadonlySet<string> | undefined;
  paths: ((p: string) => boolean)[] | undefined;
}

/**
 * Authorization by workload identity, evaluated as Istio's `AuthorizationPolicy` is: a
 * request matching any `deny` rule is denied; otherwise it is allowed when it matches an
 * `allow` rule; otherwise denied — a policy that exists denies by default. A request from a
 * peer without a SPIFFE ID matches no rule that names `from`.
 *
 * @example
 * ```ts
 * const policy = new AuthzPolicy([
 *   { action: "deny", paths: [{ prefix: "/admin" }] },
 *   { from: [{ prefix: "spiffe://shop/ns/prod" }], methods: ["GET"] },
 * ]);
 * policy.decide({ peer, method: "GET", path: "/orders" }); // { allowed: true, rule: 1 }
 * ```
 */
export class AuthzPolicy {
  readonly #deny: CompiledRule[];
  readonly #allow: CompiledRule[];

  /**
   * @param rules the rules, in configured order (indexes name them in decisions)
   * @throws {TypeError} when a `from` matcher is invalid
   */
  constructor(rules: readonly AuthzRule[]) {
    const compiled = rules.map((r, index): CompiledRule => ({
      index,
      deny: r.action === "deny",
      from: r.from?.map(compileMatcher),
      methods: r.methods && new Set(r.methods.map((m) => m.toUpperCase())),
      paths: r.paths?.map(pathPredicate),
    }));
    this.#deny = compiled.filter((r) => r.deny);
    this.#allow = compiled.filter((r) => !r.deny);
  }

  /** Decides one request (or connection). */
  decide(req: AuthzRequest): AuthzDecision {
    for (const r of this.#deny) if (applies(r, req)) return { allowed: false, rule: r.index };
    for (const r of this.#allow) if (applies(r, req)) return { allowed: true, rule: r.index };
    return { allowed: false, rule: -1 };
  }
}

function applies(r: CompiledRule, req: AuthzRequest): boolean {
  if (r.from) {
    const peer = req.peer;
    if (peer === undefined || !r.from.some((m) => m(peer))) return false;
  }
  if (r.methods && (req.method === undefined || !r.methods.has(req.method))) return false;
  if (r.paths) {
    const path = req.path;
    if (path === undefined || !r.paths.some((p) => p(path))) return false;
  }
  return true;
}

function pathPredicate(m: PathMatcher): (p: string) => boolean {
  if ("exact" in m) return (p) => p === m.exact;
  return (p) => p.startsWith(m.prefix);
}
