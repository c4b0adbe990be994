import process from "node:process";
import { type Document, LineCounter, parseDocument } from "yaml";

/** The environment variables that yaml's Node build reads while parsing (debug logging). */
const YAML_DEBUG_VARIABLES = ["LOG_TOKENS", "LOG_STREAM"];

/**
 * Parses YAML text into a document with node ranges, a line counter for them, and duplicate
 * keys left for the caller to report.
 *
 * yaml's Node build reads `process.env.LOG_TOKENS` and `LOG_STREAM` for every token it
 * parses. In Deno that read throws `NotCapable` unless the process was given env access, so
 * `skiff validate` would need `--allow-env` to read a YAML file. When that access is not
 * granted, the parse (which is synchronous: nothing else runs meanwhile) sees an empty
 * `process.env`, so the two variables read as unset — as they are to a process that may not
 * read them. With access granted, nothing is touched.
 */
export function parseYaml(text: string): { doc: Document; lines: LineCounter } {
  const lines = new LineCounter();
  const parse = () =>
    parseDocument(text, {
      lineCounter: lines,
      prettyErrors: false,
      uniqueKeys: false,
      merge: true,
    });
  if (YAML_DEBUG_VARIABLES.every(mayRead)) return { doc: parse(), lines };
  const env = process.env;
  process.env = {};
  try {
    return { doc: parse(), lines };
  } finally {
    process.env = env;
  }
}

function mayRead(variable: string): boolean {
  return Deno.permissions.querySync({ name: "env", variable }).state === "granted";
}
