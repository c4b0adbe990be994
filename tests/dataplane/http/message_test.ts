import assert from "node:assert/strict";
import { getHeader, removeHeader } from "../../../src/dataplane/http/message.ts";

Deno.test("getHeader returns the first value of a field, or undefined", () => {
  const h = ["accept", "*/*", "x-a", "1", "x-a", "2", "empty", ""];
  assert.equal(getHeader(h, "x-a"), "1");
  assert.equal(getHeader(h, "accept"), "*/*");
  assert.equal(getHeader(h, "empty"), "");
  assert.equal(getHeader(h, "missing"), undefined);
  assert.equal(getHeader(h, "*/*"), undefined, "a value is not a name");
  assert.equal(getHeader([], "x-a"), undefined);
});

Deno.test("removeHeader removes every field of a name in place, keeping the order", () => {
  const h = ["x-a", "1", "b", "2", "x-a", "3", "c", "4", "x-a", "5"];
  const same = h;
  removeHeader(h, "x-a");
  assert.equal(h, same);
  assert.deepEqual(h, ["b", "2", "c", "4"]);
  removeHeader(h, "missing");
  assert.deepEqual(h, ["b", "2", "c", "4"]);
  removeHeader(h, "b");
  removeHeader(h, "c");
  assert.deepEqual(h, []);
});
