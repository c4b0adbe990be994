import { z } from "zod";
import { describeValue } from "./_describe_value.ts";
import { Method } from "./_common_schema.ts";

/**
 * A SPIFFE ID's shape (`spiffe://trust-domain/path`); the identity layer checks every rule of
 * the SPIFFE spec when it is used.
 */
const SPIFFE_ID_PATTERN = /^spiffe:\/\/[a-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

export const SpiffeIdText = z.string().regex(SPIFFE_ID_PATTERN, {
  error: (iss) =>
    `expected a SPIFFE ID such as "spiffe://example.org/ns/prod/sa/web", got ${
      describeValue(iss.input)
    } — lower-case trust domain, then path segments of letters, digits, ".", "_" or "-"`,
});

/** Which SPIFFE IDs are accepted: exactly one of the four keys. */
export const SpiffeMatcher = z.union([
  z.strictObject({ exact: SpiffeIdText }),
  z.strictObject({ prefix: SpiffeIdText }),
  z.strictObject({
    trust_domain: z.string().regex(/^[a-z0-9._-]+$/, {
      error: (iss) =>
        `expected a trust domain such as "example.org", got ${describeValue(iss.input)}` +
        ' — use lower-case letters, digits, ".", "_" and "-" only, without "spiffe://"',
    }),
  }),
  z.strictObject({ any: z.literal(true) }),
], {
  error: () =>
    "expected one of exact: ID, prefix: ID, trust_domain: NAME or any: true" +
    ' — write exactly one of them, e.g. { prefix: "spiffe://example.org/ns/prod" }',
});

const PathMatcher = z.union([
  z.strictObject({ exact: z.string().startsWith("/") }),
  z.strictObject({ prefix: z.string().startsWith("/") }),
], { error: () => 'expected { exact: "/path" } or { prefix: "/path/" } — paths start with "/"' });

const AuthzRule = z.strictObject({
  action: z.enum(["allow", "deny"]).default("allow"),
  from: z.array(SpiffeMatcher).min(1).optional().describe(
    "Peers (by SPIFFE ID) the rule applies to; any peer when absent.",
  ),
  methods: z.array(Method).min(1).optional().describe("Request methods; any when absent."),
  paths: z.array(PathMatcher).min(1).optional().describe("Request paths; any when absent."),
});

export const Authz = z.strictObject({
  rules: z.array(AuthzRule).describe(
    "Deny rules first, then allow rules; a request no rule allows is denied (403).",
  ),
});
