import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
  type Pair,
} from "yaml";

/** A 1-based position in the config text. */
export interface Position {
  line: number;
  column: number;
}

/** A config issue that knows its position but not yet its file. */
export interface LocatedIssue extends Position {
  path: string;
  message: string;
  fix?: string;
}

/** Finds where in the YAML text a config path was written. */
export class Locator {
  #doc: Document;
  #lines: LineCounter;

  constructor(doc: Document, lines: LineCounter) {
    this.#doc = doc;
    this.#lines = lines;
  }

  /** The position of a character offset. */
  offset(offset: number): Position {
    const { line, col } = this.#lines.linePos(offset);
    // linePos reports line 0 before the first newline has been counted.
    return { line: Math.max(line, 1), column: Math.max(col, 1) };
  }

  /**
   * The position of the value at `path`. A path that does not exist in the text (a missing
   * key, a default) resolves to the deepest mapping or list that does; an empty value
   * (`retry:` with nothing after it) resolves to its key.
   */
  value(path: readonly PropertyKey[]): Position {
    const { node, key, complete } = this.#walk(path);
    if (complete && key && (!node || isEmpty(node))) return this.#start(key);
    return this.#start(node ?? key);
  }

  /** The position of the key that ends `path`, or of its value when it has no key. */
  key(path: readonly PropertyKey[]): Position {
    const { node, key, complete } = this.#walk(path);
    return this.#start(complete && key ? key : node);
  }

  #walk(path: readonly PropertyKey[]): { node?: Node; key?: Node; complete: boolean } {
    let node = this.#resolve(this.#doc.contents);
    let key: Node | undefined;
    for (const seg of path) {
      let next: { node?: Node; key?: Node } | undefined;
      if (isMap(node)) {
        const pair = (node.items as Pair<unknown, unknown>[]).findLast((p) =>
          isScalar(p.key) && String(p.key.value) === String(seg)
        );
        if (pair) next = { node: this.#resolve(pair.value), key: pair.key as Node };
      } else if (isSeq(node) && typeof seg === "number" && seg < node.items.length) {
        next = { node: this.#resolve(node.items[seg]) };
      }
      if (!next) return { node, key, complete: false };
      ({ node, key } = next);
    }
    return { node, key, complete: true };
  }

  #resolve(value: unknown): Node | undefined {
    if (isAlias(value)) return value.resolve(this.#doc) ?? value;
    return isScalar(value) || isMap(value) || isSeq(value) ? value : undefined;
  }

  #start(node: Node | undefined): Position {
    return this.offset(node?.range?.[0] ?? 0);
  }
}

function isEmpty(node: Node): boolean {
  return isScalar(node) && node.value === null && node.range?.[0] === node.range?.[1];
}
