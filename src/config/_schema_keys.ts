import { z } from "zod";

type Schema = z.core.$ZodType;

/**
 * The keys a strict object schema accepts at `path` (a path into the *input*, as zod reports
 * it), for suggesting a replacement for an unknown key. Looks through optional, default,
 * prefault, nullable and pipe wrappers, list items and record values.
 *
 * @returns the accepted keys in declaration order, or `[]` when `path` leads to no object
 */
export function allowedKeys(schema: Schema, path: readonly PropertyKey[]): string[] {
  let node: Schema | undefined = unwrap(schema);
  for (const seg of path) {
    if (node instanceof z.ZodObject) node = node.shape[String(seg)];
    else if (node instanceof z.ZodArray) node = node.element;
    else if (node instanceof z.ZodRecord) node = node.valueType;
    else node = undefined;
    node = node && unwrap(node);
  }
  return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
}

function unwrap(schema: Schema): Schema {
  let s = schema;
  for (;;) {
    if (
      s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodPrefault ||
      s instanceof z.ZodNullable
    ) s = s.unwrap();
    else if (s instanceof z.ZodPipe) s = s.in;
    else return s;
  }
}
