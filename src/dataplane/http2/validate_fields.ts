/** What validation learned about a header list besides its verdict. */
export interface FieldInfo {
  /** The `content-length` value, or -1 when absent. */
  contentLength: number;
}

/** Lower-case token characters (RFC 9110 §5.6.2): what a forwarded field name may hold. */
const NAME_CHAR = charTable("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz");
/** Token characters of either case (a method). */
const TOKEN_CHAR = charTable(
  "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
);
/** Characters of an authority (RFC 3986 §3.2.2, §3.2.3: reg-name, IP literal, port). */
const AUTHORITY_CHAR = charTable(
  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%!$&'()*+,;=:[]",
);
/** Characters of a URI scheme (RFC 3986 §3.1). */
const SCHEME_CHAR = charTable(
  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.",
);

function charTable(chars: string): Uint8Array {
  const t = new Uint8Array(128);
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}

function allIn(table: Uint8Array, s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || table[c] === 0) return false;
  }
  return true;
}

const CONNECTION_SPECIFIC = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
]);

/** The reason a field name is not allowed, or "" (RFC 9113 §8.2.1, made a token). */
function nameProblem(name: string): string {
  if (name.length === 0) return "empty_field_name";
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 128 && NAME_CHAR[c] === 1) continue;
    if (c === 58 && i === 0) return "pseudo_header_after_field";
    return c >= 0x41 && c <= 0x5a ? "uppercase_field_name" : "bad_field_name";
  }
  return "";
}

/** True when a value has NUL, CR or LF, or starts or ends with SP or HTAB (§8.2.1). */
function badValue(v: string): boolean {
  const n = v.length;
  if (n === 0) return false;
  let c = v.charCodeAt(0);
  if (c === 0x20 || c === 0x09) return true;
  c = v.charCodeAt(n - 1);
  if (c === 0x20 || c === 0x09) return true;
  // `includes` scans far faster than a loop over char codes.
  return v.includes("\r") || v.includes("\n") || v.includes("\0");
}

/** A request target without whitespace or control characters. */
function badTarget(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return true;
  }
  return false;
}

/**
 * Checks regular fields from index `from` (§8.2): token names in lower case, no
 * connection-specific fields, `te` only as "trailers", values without NUL/CR/LF or edge
 * whitespace, and a `content-length` of digits (equal values when repeated), recorded in
 * `info`.
 *
 * @returns the reason the list is malformed, or "" when it is well-formed
 */
export function validateFields(fields: string[], from: number, info: FieldInfo): string {
  info.contentLength = -1;
  for (let i = from; i < fields.length; i += 2) {
    const name = fields[i];
    const v = fields[i + 1];
    const bad = nameProblem(name);
    if (bad) return bad;
    if (badValue(v)) return "bad_field_value";
    if (CONNECTION_SPECIFIC.has(name)) return "connection_specific_field";
    if (name === "te") {
      if (v !== "trailers") return "bad_te";
    } else if (name === "content-length") {
      if (v.length === 0 || v.length > 15 || !/^\d+$/.test(v)) return "bad_content_length";
      const n = Number(v);
      if (info.contentLength >= 0 && info.contentLength !== n) return "bad_content_length";
      info.contentLength = n;
    }
  }
  return "";
}

/**
 * Checks a request head (RFC 9113 §8.3.1): the pseudo-header fields first, each once;
 * `:method` a token; `:scheme` and `:path` present (an origin-form path, or `*` for
 * OPTIONS) except for CONNECT, which has `:authority` only; an `:authority` without
 * userinfo; then the regular fields as {@link validateFields} checks them.
 *
 * @returns the reason the request is malformed, or "" when it is well-formed
 */
export function validateRequest(fields: string[], info: FieldInfo): string {
  let i = 0;
  let method = "", path = "", scheme = "";
  let authority: string | null = null;
  for (; i < fields.length && fields[i].charCodeAt(0) === 58; i += 2) {
    const v = fields[i + 1];
    switch (fields[i]) {
      case ":method":
        if (method) return "duplicate_pseudo_header";
        method = v;
        break;
      case ":path":
        if (path) return "duplicate_pseudo_header";
        path = v;
        break;
      case ":scheme":
        if (scheme) return "duplicate_pseudo_header";
        scheme = v;
        break;
      case ":authority":
        if (authority !== null) return "duplicate_pseudo_header";
        authority = v;
        break;
      default:
        return "unknown_pseudo_header";
    }
  }
  if (!method) return "missing_method";
  if (!allIn(TOKEN_CHAR, method)) return "bad_method";
  if (method === "CONNECT") {
    if (path || scheme || !authority) return "bad_connect";
  } else {
    if (!path || !scheme) return "missing_pseudo_header";
    if (!allIn(SCHEME_CHAR, scheme)) return "bad_scheme";
    if (path === "*" ? method !== "OPTIONS" : path.charCodeAt(0) !== 47 || badTarget(path)) {
      return "bad_path";
    }
  }
  if (authority !== null && !allIn(AUTHORITY_CHAR, authority)) return "bad_authority";
  return validateFields(fields, i, info);
}

/**
 * Checks a response head: `:status` first and alone among pseudo-header fields, three
 * digits from 100 to 599; then the regular fields.
 *
 * @returns the reason the response is malformed, or "" when it is well-formed
 */
export function validateResponse(fields: string[], info: FieldInfo): string {
  const s = fields[1] ?? "";
  if (fields[0] !== ":status" || s.length !== 3) return "bad_status";
  const a = s.charCodeAt(0), b = s.charCodeAt(1), c = s.charCodeAt(2);
  if (a < 49 || a > 53 || b < 48 || b > 57 || c < 48 || c > 57) return "bad_status";
  return validateFields(fields, 2, info);
}

/**
 * Checks trailers (RFC 9113 §8.1): no pseudo-header fields, regular fields as
 * {@link validateFields} checks them.
 *
 * @returns the reason the trailers are malformed, or "" when they are well-formed
 */
export function validateTrailers(fields: string[], info: FieldInfo): string {
  if (fields.length > 0 && fields[0].charCodeAt(0) === 58) return "pseudo_header_in_trailers";
  return validateFields(fields, 0, info);
}
