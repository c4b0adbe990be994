import { type Document, isMap, isScalar, isSeq, type Node, type Pair } from "yaml";
import type { LocatedIssue, Locator } from "./_locate.ts";
import { formatPath } from "./_path.ts";

/**
 * Every key written twice in the same mapping. YAML parsers keep only the last value, which
 * silently drops the first, so skiff refuses the file instead. Each repeat is reported at
 * its key, naming the line of the first one.
 */
export function duplicateKeyIssues(doc: Document, at: Locator): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  const walk = (node: unknown, path: (string | number)[]): void => {
    if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...path, i]));
    } else if (isMap(node)) {
      const seen = new Map<string, Node>();
      for (const pair of node.items as Pair<unknown, unknown>[]) {
        if (!isScalar(pair.key)) continue;
        const name = String(pair.key.value);
        const first = seen.get(name);
        if (first) {
          const firstLine = at.offset(first.range?.[0] ?? 0).line;
          issues.push({
            ...at.offset(pair.key.range?.[0] ?? 0),
            path: formatPath([...path, name]),
            message: `duplicate key "${name}" — it is already set on line ${firstLine}`,
            fix: "keep only one of them; YAML would silently use the last",
          });
        } else {
          seen.set(name, pair.key);
        }
        walk(pair.value, [...path, name]);
      }
    }
  };
  walk(doc.contents, []);
  return issues;
}
