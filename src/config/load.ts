import { type Document, isScalar } from "yaml";
import type { z } from "zod";
import { ConfigError, type ConfigIssue } from "./errors.ts";
import { type Config, ConfigSchema } from "./schema.ts";
import { checkConsistency } from "./_check_consistency.ts";
import { checkReferences } from "./_check_references.ts";
import { duplicateKeyIssues } from "./_duplicate_keys.ts";
import { type LocatedIssue, Locator } from "./_locate.ts";
import { parseYaml } from "./_parse_yaml.ts";
import { formatPath } from "./_path.ts";
import { allowedKeys } from "./_schema_keys.ts";
import { yamlSyntaxIssues } from "./_yaml_syntax.ts";
import { zodMessages } from "./_zod_messages.ts";
import { suggest } from "./suggest.ts";

/**
 * Parses and validates a skiff config from YAML text: YAML syntax, the schema (with its
 * defaults applied and durations and addresses converted), and the cross-references between
 * listeners, routes and clusters.
 *
 * Every problem is collected before throwing, each at the line and column of the YAML that
 * caused it. Schema problems are only looked for in well-formed YAML. Names, addresses and
 * references to clusters are checked together with the schema, on the parts of the document
 * that are well-formed; the other checks that span several fields (protocols, splits,
 * discovery, TLS) only once the schema holds.
 *
 * @param text the YAML source
 * @param file the name to report problems under (not read)
 * @returns the validated config
 * @throws {ConfigError} listing every problem found
 * @example
 * ```ts
 * const config = parseConfig(await Deno.readTextFile("skiff.yaml"), "skiff.yaml");
 * config.listeners[0].address; // { hostname: "127.0.0.1", port: 10000 }
 * ```
 */
export function parseConfig(text: string, file: string): Config {
  const { doc, lines } = parseYaml(text);
  const at = new Locator(doc, lines);
  const fail = (issues: LocatedIssue[]) =>
    new ConfigError(issues.map((i): ConfigIssue => ({ file, ...i })));

  const syntax = yamlSyntaxIssues(doc, at);
  if (syntax.length > 0) throw fail(syntax);
  if (isEmpty(doc)) {
    throw fail([{
      line: 1,
      column: 1,
      path: "",
      message: "the file is empty — a config needs at least a listeners list",
      fix: "add a listeners list with at least one listener, each with a name and an address",
    }]);
  }
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (err) {
    // yaml throws ReferenceError when aliases expand past its limit (an "alias bomb").
    if (!(err instanceof ReferenceError)) throw err;
    throw fail([{
      line: 1,
      column: 1,
      path: "",
      message: `invalid YAML: ${err.message}`,
      fix: "use fewer aliases (*name); skiff limits how far they may expand",
    }]);
  }

  dropExtensionKeys(data);
  const duplicates = duplicateKeyIssues(doc, at);
  const result = ConfigSchema.safeParse(data, { reportInput: true, error: zodMessages });
  const issues = [...duplicates];
  if (!result.success) issues.push(...result.error.issues.flatMap((iss) => schemaIssues(iss, at)));
  // With a key written twice, the data holds whichever came last, and cross-checks on it
  // would report problems the user never wrote; fix the duplicates first.
  if (duplicates.length === 0) {
    const cross = [
      ...checkReferences(data),
      ...(result.success ? checkConsistency(result.data) : []),
    ];
    for (const { path, message, fix } of cross) {
      issues.push({ ...at.value(path), path: formatPath(path), message, fix });
    }
  }
  if (!result.success || issues.length > 0) throw fail(issues);
  return result.data;
}

/**
 * Reads and validates a skiff config file; see {@link parseConfig}.
 *
 * @param path the file to read, absolute or relative to the current directory
 * @returns the validated config
 * @throws {ConfigError} when the file cannot be read (missing, a directory, not readable,
 *   not UTF-8; reported at line 1, column 1) or does not validate
 * @example
 * ```ts
 * const config = await loadConfigFile("deploy/examples/full.yaml");
 * ```
 */
export async function loadConfigFile(path: string): Promise<Config> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    throw new ConfigError([{ file: path, line: 1, column: 1, path: "", ...readProblem(err) }]);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ConfigError([{
      file: path,
      line: 1,
      column: 1,
      path: "",
      message: "the file is not UTF-8 text",
      fix: "save it as UTF-8; a skiff config is a YAML text file",
    }]);
  }
  return parseConfig(text, path);
}

function readProblem(err: unknown): { message: string; fix: string } {
  const cannot = "cannot read the config file";
  if (err instanceof Deno.errors.NotFound) {
    return {
      message: `${cannot}: it does not exist`,
      fix: "check the path; a relative path starts from the current directory",
    };
  }
  if (err instanceof Deno.errors.NotCapable) {
    return {
      message: `${cannot}: skiff was started without permission to read it`,
      fix: "run skiff with --allow-read (or --allow-read=PATH)",
    };
  }
  if (err instanceof Deno.errors.PermissionDenied) {
    return {
      message: `${cannot}: the operating system denied access`,
      fix: "make the file readable by the user that runs skiff",
    };
  }
  if (err instanceof Deno.errors.IsADirectory) {
    return { message: `${cannot}: it is a directory`, fix: "name a YAML file, not a folder" };
  }
  if (err instanceof Error) {
    return {
      message: `${cannot}: ${err.message}`,
      fix: "check that the path names a readable YAML file",
    };
  }
  throw err;
}

function isEmpty(doc: Document): boolean {
  const c = doc.contents;
  return c === null || (isScalar(c) && c.value === null);
}

function schemaIssues(iss: z.core.$ZodIssue, at: Locator): LocatedIssue[] {
  if (iss.code === "unrecognized_keys") {
    const allowed = allowedKeys(ConfigSchema, iss.path);
    return iss.keys.map((key) => {
      const path = [...iss.path, key];
      const near = suggest(key, allowed);
      return withFix(
        {
          ...at.key(path),
          path: formatPath(path),
          message: `unknown key "${key}"` + (near ? ` — did you mean "${near}"?` : ""),
        },
        allowed.length > 0 ? `the keys allowed here are: ${allowed.join(", ")}` : undefined,
      );
    });
  }
  const path = formatPath(iss.path);
  if (iss.code === "invalid_type" && iss.input === undefined && iss.path.length > 0) {
    const key = String(iss.path[iss.path.length - 1]);
    return [{
      ...at.value(iss.path),
      path,
      message: `missing required key "${key}"`,
      fix: `add "${key}:" to this mapping`,
    }];
  }
  const { message, fix } = splitFix(iss.message);
  return [withFix({ ...at.value(iss.path), path, message }, fix)];
}

/**
 * Separates the fix the schema's messages carry after their last " — ". A "did you mean"
 * there is part of the diagnosis and stays in the message.
 */
function splitFix(text: string): { message: string; fix?: string } {
  const i = text.lastIndexOf(" — ");
  if (i < 0 || text.startsWith("did you mean", i + 3)) return { message: text };
  return { message: text.slice(0, i), fix: text.slice(i + 3) };
}

function withFix(issue: LocatedIssue, fix: string | undefined): LocatedIssue {
  return fix === undefined ? issue : { ...issue, fix };
}

/**
 * Removes the top-level keys that start with `x-` (as Docker Compose does): a place to keep
 * YAML anchors that the config merges in elsewhere (`x-retry: &retry …`, then
 * `retry: { <<: *retry }`), which skiff itself ignores.
 */
function dropExtensionKeys(data: unknown): void {
  if (data === null || typeof data !== "object" || Array.isArray(data)) return;
  for (const key of Object.keys(data)) {
    if (key.startsWith("x-")) delete (data as Record<string, unknown>)[key];
  }
}
