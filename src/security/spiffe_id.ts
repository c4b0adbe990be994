/** The longest SPIFFE ID the SPIFFE ID specification allows, in bytes. */
export const MAX_SPIFFE_ID_LENGTH = 2048;

/** The longest trust domain name the SPIFFE ID specification allows, in bytes. */
export const MAX_TRUST_DOMAIN_LENGTH = 255;

const SCHEME = "spiffe://";
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const SEGMENT = /^[A-Za-z0-9._-]+$/;

/**
 * A SPIFFE ID, `spiffe://<trust-domain>/<path>`, checked against the SPIFFE ID specification.
 * Two IDs are the same workload exactly when their `toString()` values are equal.
 *
 * @example
 * ```ts
 * const id = SpiffeId.parse("spiffe://example.org/ns/prod/sa/web");
 * id.trustDomain; // "example.org"
 * id.path; // "/ns/prod/sa/web"
 * ```
 */
export class SpiffeId {
  /** The trust domain, e.g. `example.org`. */
  readonly trustDomain: string;
  /** The path: empty, or `/`-separated segments starting with `/` (e.g. `/ns/prod/sa/web`). */
  readonly path: string;

  private constructor(trustDomain: string, path: string) {
    this.trustDomain = trustDomain;
    this.path = path;
  }

  /**
   * Parses and validates a SPIFFE ID.
   *
   * @param text the ID, e.g. `spiffe://example.org/ns/prod/sa/web`
   * @returns the parsed ID
   * @throws {TypeError} naming the rule `text` breaks (scheme, trust domain characters, empty
   *   or dot segments, segment characters, length)
   */
  static parse(text: string): SpiffeId {
    const problem = spiffeIdProblem(text);
    if (problem !== undefined) {
      throw new TypeError(`Invalid SPIFFE ID ${JSON.stringify(text)}: ${problem}`);
    }
    const rest = text.slice(SCHEME.length);
    const slash = rest.indexOf("/");
    return slash < 0
      ? new SpiffeId(rest, "")
      : new SpiffeId(rest.slice(0, slash), rest.slice(slash));
  }

  /** Parses a SPIFFE ID, returning `undefined` instead of throwing when it is invalid. */
  static tryParse(text: string): SpiffeId | undefined {
    return spiffeIdProblem(text) === undefined ? SpiffeId.parse(text) : undefined;
  }

  /**
   * Builds an ID from a trust domain and path segments.
   *
   * @example
   * ```ts
   * SpiffeId.of("example.org", "ns", "prod", "sa", "web").toString();
   * // "spiffe://example.org/ns/prod/sa/web"
   * ```
   * @throws {TypeError} when the result is not a valid SPIFFE ID
   */
  static of(trustDomain: string, ...segments: string[]): SpiffeId {
    return SpiffeId.parse(SCHEME + [trustDomain, ...segments].join("/"));
  }

  /** The ID as a URI, `spiffe://<trust-domain><path>`. */
  toString(): string {
    return SCHEME + this.trustDomain + this.path;
  }

  /** The same as `toString()`, so IDs serialise as strings in logs and JSON. */
  toJSON(): string {
    return this.toString();
  }

  /** Whether `other` is the same ID. */
  equals(other: SpiffeId): boolean {
    return this.trustDomain === other.trustDomain && this.path === other.path;
  }
}

/**
 * What makes `text` an invalid SPIFFE ID, as a short lower-case phrase, or `undefined` when it
 * is valid. The rules are those of the SPIFFE ID specification, section 2.
 */
export function spiffeIdProblem(text: string): string | undefined {
  if (text.length === 0) return "it is empty";
  if (new TextEncoder().encode(text).length > MAX_SPIFFE_ID_LENGTH) {
    return `it is longer than ${MAX_SPIFFE_ID_LENGTH} bytes`;
  }
  if (!text.startsWith(SCHEME)) return `the scheme must be "spiffe://" (lower case)`;
  const rest = text.slice(SCHEME.length);
  const slash = rest.indexOf("/");
  const trustDomain = slash < 0 ? rest : rest.slice(0, slash);
  const tdProblem = trustDomainProblem(trustDomain);
  if (tdProblem !== undefined) return tdProblem;
  if (slash < 0) return undefined;
  const segments = rest.slice(slash + 1).split("/");
  for (const [i, s] of segments.entries()) {
    if (s === "") {
      return i === segments.length - 1
        ? "the path must not end with a slash"
        : "the path must not contain empty segments";
    }
    if (s === "." || s === "..") return `the path must not contain "." or ".." segments`;
    if (!SEGMENT.test(s)) {
      return `path segment ${JSON.stringify(s)} may only contain letters, digits, ".", "-" and "_"`;
    }
  }
  return undefined;
}

/** What makes `name` an invalid trust domain name, or `undefined` when it is valid. */
export function trustDomainProblem(name: string): string | undefined {
  if (name === "") return "the trust domain is missing";
  if (name.length > MAX_TRUST_DOMAIN_LENGTH) {
    return `the trust domain is longer than ${MAX_TRUST_DOMAIN_LENGTH} bytes`;
  }
  if (!TRUST_DOMAIN.test(name)) {
    return `trust domain ${
      JSON.stringify(name)
    } may only contain lower-case letters, digits, ".", "-" and "_"`;
  }
  return undefined;
}
