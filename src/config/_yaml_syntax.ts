import { type Document, visit, type YAMLError } from "yaml";
import type { LocatedIssue, Locator } from "./_locate.ts";

const WORDING: Partial<Record<YAMLError["code"], { message?: string; fix: string }>> = {
  MULTIPLE_DOCS: {
    message: 'the file holds more than one YAML document ("---" separator)',
    fix: 'keep a single document: remove the second "---" and what follows, or merge them',
  },
  TAB_AS_INDENT: { fix: "indent with spaces; YAML does not allow tabs for indentation" },
  TAG_RESOLVE_FAILED: { fix: "remove the tag; skiff reads plain YAML values" },
  BLOCK_AS_IMPLICIT_KEY: { fix: "put the nested mapping on its own, more indented lines" },
  MULTILINE_IMPLICIT_KEY: { fix: "keep a key and its colon on one line, or quote the text" },
  MISSING_CHAR: { fix: "add the missing character" },
  BAD_DQ_ESCAPE: { fix: 'write a backslash as "\\\\", or use single quotes' },
};

/**
 * The YAML-level problems of a parsed document: syntax errors, warnings (unknown tags) and
 * aliases without an anchor, each at its position. Warnings count as errors: a value the
 * parser reinterprets silently is a misconfiguration waiting to happen.
 */
export function yamlSyntaxIssues(doc: Document, at: Locator): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  for (const err of [...doc.errors, ...doc.warnings]) {
    const wording = WORDING[err.code];
    const text = wording?.message ?? lowerFirst(err.message);
    const issue: LocatedIssue = {
      ...at.offset(err.pos[0]),
      path: "",
      message: `invalid YAML: ${text}`,
    };
    if (wording) issue.fix = wording.fix;
    issues.push(issue);
  }
  visit(doc, {
    Alias(_, alias) {
      if (alias.resolve(doc) !== undefined) return;
      issues.push({
        ...at.offset(alias.range?.[0] ?? 0),
        path: "",
        message: `invalid YAML: alias "*${alias.source}" refers to no anchor`,
        fix: `mark the value to reuse with "&${alias.source}" before this point`,
      });
    },
  });
  return issues;
}

function lowerFirst(text: string): string {
  return /^[A-Z][a-z]/.test(text) ? text[0].toLowerCase() + text.slice(1) : text;
}
