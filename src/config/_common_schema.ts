import { z } from "zod";
import { DURATION_PATTERN, MAX_DURATION_MS, maxDurationLike, parseDuration } from "./duration.ts";
import { ADDRESS_PATTERN, parseAddress } from "./address.ts";
import { describeValue } from "./_describe_value.ts";

// Every message below says what was expected; the loader adds file, line, column and path.
// A "fix" hint is carried in the message after " — " so the formatter can print it apart.
// Messages for the generic checks (types, ranges, enums) come from the loader's error map;
// an `error` function here returns undefined to leave a case (a missing key) to it.
//
// Defaults of durations are given as text with `.prefault("15s")`, not as milliseconds with
// `.default(15000)`: the output is the same, and the JSON Schema then shows editors a default
// they could have written.

/**
 * The message for a value of the wrong type where text of some form was expected, or
 * `undefined` for a missing key (which the loader words itself).
 */
function notText(what: string, input: unknown, fix: string): string | undefined {
  if (input === undefined) return undefined;
  const got = describeValue(input);
  return `expected ${what}, got ${got} — ${
    input === null ? "give it a value or remove the key" : fix
  }`;
}

/** A duration such as `250ms`, `2s`, `1m`, `1h`, parsed to milliseconds. */
export const Duration = z.string({
  error: (iss) =>
    notText(
      'a duration such as "250ms" or "2s"',
      iss.input,
      typeof iss.input === "number"
        ? `write "${iss.input}s" or "${iss.input}ms"`
        : "write a whole number followed by ms, s, m or h",
    ),
})
  .refine((s) => parseDuration(s) !== undefined, {
    error: (iss) =>
      `expected a duration such as "250ms" or "2s", got ${describeValue(iss.input)}` +
      " — write a whole number followed by ms, s, m or h",
    abort: true,
  })
  .refine((s) => parseDuration(s)! <= MAX_DURATION_MS, {
    error: (iss) => {
      const max = maxDurationLike(String(iss.input));
      const exact = max === `${MAX_DURATION_MS}ms` ? "" : `${MAX_DURATION_MS}ms, `;
      return `duration ${describeValue(iss.input)} is above the maximum of ${max} ` +
        `(${exact}about 24.8 days; no timer waits longer) — lower it to ${max} or less`;
    },
  })
  .meta({
    description: 'A whole number followed by ms, s, m or h: "250ms", "2s", "1m", "1h".',
    pattern: DURATION_PATTERN.source,
    examples: ["250ms", "2s", "1m"],
  })
  .transform((s) => parseDuration(s)!);

/** What to do about text that is not an address, by the most likely mistake. */
function addressFix(text: string, low = 1): string {
  const port = /:(\d+)$/.exec(text);
  if (!text.includes(":")) return `add the port, e.g. "${text}:8080"`;
  if (!text.startsWith("[") && text.indexOf(":") !== text.lastIndexOf(":")) {
    return port
      ? `put an IPv6 host in brackets: "[${text.slice(0, port.index)}]:${port[1]}"`
      : 'put an IPv6 host in brackets and add the port, e.g. "[::1]:8080"';
  }
  if (port && (Number(port[1]) < low || Number(port[1]) > 65535)) {
    return `use a port from ${low} to 65535`;
  }
  return `write host:port with a port from ${low} to 65535`;
}

function addressSchema(allowPortZero: boolean) {
  const low = allowPortZero ? 0 : 1;
  return z.string({
    error: (iss) =>
      notText(
        'an address such as "127.0.0.1:8080"',
        iss.input,
        `write host:port, e.g. "127.0.0.1:${typeof iss.input === "number" ? iss.input : 8080}"`,
      ),
  })
    .refine((s) => parseAddress(s, { allowPortZero }) !== undefined, {
      error: (iss) =>
        `expected an address such as "127.0.0.1:8080" or "[::1]:8080", got ${
          describeValue(iss.input)
        } — ${addressFix(String(iss.input), low)}`,
    })
    .meta({
      description: 'host:port, with an IPv6 host in brackets: "127.0.0.1:8080", "[::1]:8080".' +
        (allowPortZero ? " Port 0 binds any free port." : ""),
      pattern: ADDRESS_PATTERN.source,
      examples: ["127.0.0.1:8080", "[::1]:8080"],
    })
    .transform((s) => parseAddress(s, { allowPortZero })!);
}

/** A socket address `host:port` (IPv6 in brackets), parsed to `{hostname, port}`. */
export const Address = addressSchema(false);

/** An address to listen on: like `Address`, and port 0 picks any free port. */
export const BindAddress = addressSchema(true);

/**
 * A name (of a listener, cluster, service): letters, digits, "_", "." and "-".
 *
 * @param typeError the message for a value that is not text, or `undefined` to leave it to
 *   the loader's error map
 */
export function nameSchema(typeError: (input: unknown) => string | undefined = () => undefined) {
  return z.string({ error: (iss) => typeError(iss.input) }).regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/,
    {
      error: (iss) =>
        `expected a name of letters, digits, "_", "." or "-", got ${describeValue(iss.input)}` +
        " — start with a letter or digit and use at most 63 characters",
    },
  );
}

export const Name = nameSchema();

export const HeaderName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, {
  error: (iss) =>
    `expected an HTTP header name, got ${describeValue(iss.input)}` +
    ' — use letters, digits and "-", as in "x-request-id"',
}).transform((s) => s.toLowerCase());

export const HeaderValue = z.string().refine((s) => !/[\r\n\0]/.test(s), {
  error: (iss) =>
    `header value ${describeValue(iss.input)} contains a line break or NUL` +
    " — header values must be a single line",
});

export const Regex = z.string().refine((s) => {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}, {
  error: (iss) =>
    `expected a valid regular expression, got ${describeValue(iss.input)}` +
    " — check brackets and escapes; the syntax is JavaScript's",
});

/** Whether the object `input` (as given to a refinement) has any of `keys` set. */
export function hasAny(input: unknown, keys: string[]): boolean {
  const o = input as Record<string, unknown> | null;
  return typeof o === "object" && o !== null && keys.some((k) => o[k] !== undefined);
}

/**
 * The arguments of `.refine(...)` for "exactly one of `keys`" on an object schema: the error
 * names them and says how to fix it (keep one, or `addHint` when none is set).
 *
 * @param what the object, as the message starts ("a route")
 */
export function exactlyOne(what: string, keys: string[], addHint: string) {
  const list = keys.slice(0, -1).join(", ") + " or " + keys[keys.length - 1];
  return [
    (o: Record<string, unknown>) => keys.filter((k) => o[k] !== undefined).length === 1,
    {
      error: (iss: { input: unknown }) =>
        `${what} needs exactly one of ${list} — ` +
        (hasAny(iss.input, keys) ? "keep one of them" : addHint),
    },
  ] as const;
}

/**
 * Text that starts with "/", as a request path or path prefix does.
 *
 * @param what the value, as the message starts ("a path prefix")
 */
export function PathText(what: string) {
  return z.string().startsWith("/", {
    error: (iss) =>
      `${what} starts with "/", got ${describeValue(iss.input)} — ${
        typeof iss.input === "string" ? `write "/${iss.input}"` : 'start it with "/"'
      }`,
  });
}

export const Port = z.number().int().min(1).max(65535);

export const Method = z.enum([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "PATCH",
  "OPTIONS",
  "CONNECT",
  "TRACE",
]);

export const Percentage = z.number().min(0).max(100);

/** A duration that must be above 0 (an interval or timeout that cannot be off). */
export const PositiveDuration = (fallback: string) =>
  Duration.prefault(fallback).refine((ms) => ms > 0, {
    error: (iss) =>
      `${String(iss.path?.at(-1) ?? "the duration")} must be above 0 — ` +
      "set it to a duration above 0, for example 1s",
  });
