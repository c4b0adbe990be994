import { SpiffeId, trustDomainProblem } from "./spiffe_id.ts";

/**
 * Which SPIFFE IDs an authorization rule (or an outbound hop) accepts, as plain data so that
 * it can live in configuration:
 *
 * - `{ exact: "spiffe://example.org/ns/prod/sa/web" }`: that ID only;
 * - `{ prefix: "spiffe://example.org/ns/prod" }`: that ID and every ID below it, segment by
 *   segment (`/ns/prod/sa/x` matches, `/ns/production` does not);
 * - `{ trust_domain: "example.org" }`: every ID of that trust domain;
 * - `{ any: true }`: every valid SPIFFE ID.
 */
export type SpiffeMatcher =
  | { exact: string }
  | { prefix: string }
  | { trust_domain: string }
  | { any: true };

/** A matcher checked and prepared once, then applied per connection. */
export type SpiffeIdPredicate = (id: SpiffeId) => boolean;

/**
 * Checks a matcher and turns it into a predicate.
 *
 * @param matcher the matcher, e.g. `{ prefix: "spiffe://example.org/ns/prod" }`
 * @returns a function telling whether an ID matches
 * @throws {TypeError} when the matcher has not exactly one known key or its value is not a
 *   valid SPIFFE ID (`exact`, `prefix`) or trust domain (`trust_domain`)
 * @example
 * ```ts
 * const prod = compileMatcher({ prefix: "spiffe://example.org/ns/prod" });
 * prod(SpiffeId.parse("spiffe://example.org/ns/prod/sa/web")); // true
 * prod(SpiffeId.parse("spiffe://example.org/ns/production")); // false
 * ```
 */
export function compileMatcher(matcher: SpiffeMatcher): SpiffeIdPredicate {
  const keys = Object.keys(matcher);
  if (keys.length !== 1) {
    throw new TypeError(
      `A SPIFFE ID matcher has exactly one of "exact", "prefix", "trust_domain" or "any", ` +
        `got ${JSON.stringify(matcher)}`,
    );
  }
  if ("exact" in matcher) {
    const want = SpiffeId.parse(matcher.exact);
    return (id) => id.equals(want);
  }
  if ("prefix" in matcher) {
    const { trustDomain, path } = SpiffeId.parse(matcher.prefix);
    const below = path + "/";
    return (id) =>
      id.trustDomain === trustDomain && (id.path === path || id.path.startsWith(below));
  }
  if ("trust_domain" in matcher) {
    const td = matcher.trust_domain;
    const problem = trustDomainProblem(td);
    if (problem !== undefined) throw new TypeError(`Invalid SPIFFE matcher: ${problem}`);
    return (id) => id.trustDomain === td;
  }
  if ("any" in matcher && matcher.any === true) return () => true;
  throw new TypeError(
    `Unknown SPIFFE ID matcher ${JSON.stringify(matcher)}: ` +
      `use "exact", "prefix", "trust_domain" or "any: true"`,
  );
}

/**
 * Whether `id` matches `matcher`. Compiles the matcher on every call: on a hot path, keep
 * the predicate from `compileMatcher` instead.
 *
 * @throws {TypeError} when the matcher is invalid (see `compileMatcher`)
 */
export function matches(matcher: SpiffeMatcher, id: SpiffeId): boolean {
  return compileMatcher(matcher)(id);
}
