import { type Document, visit, type YAMLError } from "yaml";
import type { LocatedIssue, Locator } from "./_locate.ts";

/** How to word one kind of YAML error: a message of our own, if any, and its fix. */
interface Wording {
  message?: string;
  fix: string;
}

/**
 * A fix for every kind of error the YAML parser reports (the record must name each code, so
 * a code added to the parser's type does not go without one). Codes that cover several
 * mistakes get a more precise wording from {@link BY_MESSAGE} when their message is known.
 */
const BY_CODE: Record<YAMLError["code"], Wording> = {
  ALIAS_PROPS: { fix: "remove the anchor or tag in front of the alias (*name)" },
  BAD_ALIAS: { fix: 'name anchors and aliases without a trailing ":", e.g. &base and *base' },
  BAD_COLLECTION_TYPE: { fix: "remove the tag; skiff reads plain YAML values" },
  BAD_DIRECTIVE: { fix: 'remove the "%" directive line; skiff reads plain YAML' },
  BAD_DQ_ESCAPE: { fix: 'write a backslash as "\\\\", or use single quotes' },
  BAD_INDENT: {
    fix: "indent with spaces: nested lines further than the key they belong to, and the " +
      "items of one mapping or list all at the same column",
  },
  BAD_PROP_ORDER: { fix: 'put the anchor (&name) after the "-" or "?" indicator' },
  BAD_SCALAR_START: { fix: "quote the value; plain text cannot start with this character" },
  BLOCK_AS_IMPLICIT_KEY: { fix: "put the nested mapping on its own, more indented lines" },
  BLOCK_IN_FLOW: {
    fix: "inside [ ] or { } write items on one line separated by commas, or drop the " +
      'brackets and write one "- " item or key: value per indented line',
  },
  DUPLICATE_KEY: { fix: "keep only one of them; YAML would silently use the last" },
  IMPOSSIBLE: {
    fix: 'rewrite this part in plain block style: "key: value" lines and "- " list items',
  },
  KEY_OVER_1024_CHARS: { fix: "shorten the key to at most 1024 characters" },
  MISSING_CHAR: { fix: "add the missing character the message names" },
  MULTILINE_IMPLICIT_KEY: { fix: "keep a key and its colon on one line, or quote the text" },
  MULTIPLE_ANCHORS: { fix: "keep one anchor (&name) on the value" },
  MULTIPLE_DOCS: {
    message: 'the file holds more than one YAML document ("---" separator)',
    fix: 'keep a single document: remove the second "---" and what follows, or merge them',
  },
  MULTIPLE_TAGS: { fix: "remove the tags; skiff reads plain YAML values" },
  NON_STRING_KEY: { fix: "write the key as plain text" },
  RESOURCE_EXHAUSTION: { fix: "use fewer aliases (*name); skiff limits how far they may expand" },
  TAB_AS_INDENT: { fix: "indent with spaces; YAML does not allow tabs for indentation" },
  TAG_RESOLVE_FAILED: { fix: "remove the tag; skiff reads plain YAML values" },
  UNEXPECTED_TOKEN: {
    fix: 'remove the stray characters, or quote the text if it holds ":", "#", "[", "]", ' +
      '"{", "}" or ","',
  },
};

/** Fixes for particular messages of the broad codes (BAD_INDENT, MISSING_CHAR, …). */
const BY_MESSAGE: readonly { pattern: RegExp; fix: (m: RegExpExecArray) => string }[] = [
  {
    pattern: /^Flow (sequence|map) in block collection must be sufficiently indented/,
    fix: (m) =>
      `close the ${m[1] === "sequence" ? 'list with "]"' : 'mapping with "}"'}, and indent ` +
      "every line it continues on further than the key it belongs to (or keep it on one line)",
  },
  {
    pattern: /^Flow (sequence|map) must end with a/,
    fix: (m) => `close the ${m[1] === "sequence" ? 'list with "]"' : 'mapping with "}"'}`,
  },
  {
    pattern: /^All mapping items must start at the same column/,
    fix: () => "indent every key of this mapping by the same number of spaces",
  },
  {
    pattern: /^All sequence items must start at the same column/,
    fix: () => 'start every "- " item of this list at the same column',
  },
  {
    pattern: /^Sequence item without - indicator/,
    fix: () => 'start each item of the list with "- "',
  },
  {
    pattern: /^Implicit map keys need to be followed by map values/,
    fix: () => 'put ":" and a space after the key, then its value (key: value)',
  },
  {
    pattern: /^Missing closing (['"])quote/,
    fix: (m) => `end the quoted text with ${m[1]} on the same line`,
  },
  {
    pattern: /^Missing (, or : )?between .* items/,
    fix: () => 'separate the items inside [ ] or { } with ", " (and a key from its value ": ")',
  },
  {
    pattern: /^Missing space after : in/,
    fix: () => 'put a space after ":"',
  },
  {
    pattern: /^Comments must be separated from other tokens by white space/,
    fix: () => 'put a space before "#", or quote the text if "#" belongs to the value',
  },
  {
    pattern: /^Tags and anchors must be separated from the next token by white space/,
    fix: () => "put a space after the anchor (&name) or tag",
  },
  {
    pattern: /^Unexpected , in/,
    fix: () => 'remove the extra ","',
  },
];

/**
 * The YAML-level problems of a parsed document: syntax errors, warnings (unknown tags) and
 * aliases without an anchor, each at its position and with a fix. Warnings count as errors:
 * a value the parser reinterprets silently is a misconfiguration waiting to happen.
 */
export function yamlSyntaxIssues(doc: Document, at: Locator): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  for (const err of [...doc.errors, ...doc.warnings]) {
    const wording = BY_CODE[err.code];
    issues.push({
      ...at.offset(err.pos[0]),
      path: "",
      message: `invalid YAML: ${wording.message ?? lowerFirst(err.message)}`,
      fix: fixByMessage(err.message) ?? wording.fix,
    });
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

function fixByMessage(message: string): string | undefined {
  for (const { pattern, fix } of BY_MESSAGE) {
    const m = pattern.exec(message);
    if (m) return fix(m);
  }
  return undefined;
}

function lowerFirst(text: string): string {
  return /^[A-Z][a-z]/.test(text) ? text[0].toLowerCase() + text.slice(1) : text;
}
