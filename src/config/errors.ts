/**
 * One problem found in a config file, located at the line and column of the YAML text that
 * caused it.
 */
export interface ConfigIssue {
  /** The file name as it was given to the loader. */
  file: string;
  /** 1-based line of the offending YAML node. */
  line: number;
  /** 1-based column of the offending YAML node. */
  column: number;
  /**
   * Where in the config the problem is, e.g. `listeners[0].routes[2].retry.per_try_timeout`;
   * empty for problems of the file itself (unreadable, empty, broken YAML).
   */
  path: string;
  /** What is wrong, quoting the offending value. */
  message: string;
  /** What to do about it, when there is something specific to say. */
  fix?: string;
}

/**
 * Renders an issue the way compilers do, so editors and terminals can jump to it:
 * `FILE:LINE:COLUMN: PATH: MESSAGE`, followed by an indented `fix: …` line when the issue
 * has a fix. The path is left out when it is empty.
 *
 * @example
 * ```ts
 * formatIssue({
 *   file: "skiff.yaml", line: 7, column: 9, path: "listeners[0].retires",
 *   message: 'unknown key "retires" — did you mean "retry"?',
 * });
 * // 'skiff.yaml:7:9: listeners[0].retires: unknown key "retires" — did you mean "retry"?'
 * ```
 */
export function formatIssue(issue: ConfigIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}: `;
  const head = where + (issue.path ? `${issue.path}: ` : "") + issue.message;
  return issue.fix ? `${head}\n  fix: ${issue.fix}` : head;
}

/**
 * Thrown when a config file cannot be read, is not valid YAML, does not match the schema or
 * refers to things it does not define. It carries every problem found, not just the first;
 * its `message` lists them in file order, one {@link formatIssue} block per issue.
 *
 * @example
 * ```ts
 * try {
 *   parseConfig(text, "skiff.yaml");
 * } catch (err) {
 *   if (!(err instanceof ConfigError)) throw err;
 *   for (const issue of err.issues) console.error(issue.line, issue.message);
 * }
 * ```
 */
export class ConfigError extends Error {
  /** Every problem found, sorted by file, line and column. */
  readonly issues: ConfigIssue[];

  /**
   * Collects the problems found in one or more config files.
   *
   * @param issues the problems found; they are sorted by position (stably), and there
   *   must be at least one
   * @throws {RangeError} when `issues` is empty
   */
  constructor(issues: readonly ConfigIssue[]) {
    if (issues.length === 0) {
      throw new RangeError("A ConfigError needs at least one issue — pass the problems found");
    }
    const sorted = [...issues].sort(byPosition);
    super(sorted.map(formatIssue).join("\n"));
    this.name = "ConfigError";
    this.issues = sorted;
  }
}

function byPosition(a: ConfigIssue, b: ConfigIssue): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.column - b.column;
}
