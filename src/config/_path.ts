/** A path into the config: object keys and array indices, outermost first. */
export type ConfigPath = readonly (string | number)[];

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Renders a path as `listeners[0].routes[2].retry.per_try_timeout`; keys that are not plain
 * identifiers are quoted (`labels["app.kubernetes.io/name"]`). The empty path renders as "".
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (typeof seg === "string" && IDENTIFIER.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

/** A problem found at a path into the config, before its position in the text is known. */
export interface PathIssue {
  path: ConfigPath;
  message: string;
  /** What to do about it. */
  fix: string;
}
