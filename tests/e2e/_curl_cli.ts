/**
 * Runs the real `curl` as a child process.
 * @module
 */

/** What one curl run produced. */
export interface CurlResult {
  code: number;
  stdout: Uint8Array;
  stderr: string;
}

/**
 * Runs `curl -sS <args>` and collects its output (never throws on a curl error; check
 * `code`). A `--max-time` bounds every run.
 */
export async function curl(args: string[]): Promise<CurlResult> {
  const out = await new Deno.Command("curl", {
    args: ["-sS", "--max-time", "30", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: out.stdout, stderr: new TextDecoder().decode(out.stderr) };
}

/**
 * Parses the header block(s) curl wrote with `-D FILE`: the last response's status line and
 * fields, and the trailer fields curl appends after them (names lower-cased, repeated
 * fields kept in order).
 */
export function parseCurlHeaders(
  text: string,
): { status: string; fields: [string, string][]; trailers: [string, string][] } {
  const blocks = text.split(/\r?\n\r?\n/).filter((b) => b.trim() !== "");
  let last = blocks.length - 1;
  while (last > 0 && !blocks[last].startsWith("HTTP/")) last--;
  const lines = blocks[last].split(/\r?\n/);
  return {
    status: lines[0],
    fields: parseFields(lines.slice(1)),
    trailers: parseFields(blocks.slice(last + 1).join("\n").split(/\r?\n/)),
  };
}

function parseFields(lines: string[]): [string, string][] {
  const fields: [string, string][] = [];
  for (const line of lines) {
    const i = line.indexOf(":");
    if (i > 0) fields.push([line.slice(0, i).toLowerCase(), line.slice(i + 1).trim()]);
  }
  return fields;
}
