import assert from "node:assert/strict";
import { ViewCache } from "../../src/core/view_cache.ts";

Deno.test("ViewCache returns the same view for the same range of the same array", () => {
  const buf = Uint8Array.from([1, 2, 3, 4, 5, 6]);
  const views = new ViewCache();
  const a = views.view(buf, 1, 4);
  assert.deepEqual([...a], [2, 3, 4]);
  assert.equal(views.view(buf, 1, 4), a, "the same range again: the same view");
  // A view shows the buffer's bytes as they are now.
  buf[2] = 9;
  assert.deepEqual([...views.view(buf, 1, 4)], [2, 9, 4]);
});

Deno.test("ViewCache makes a new view for another range or another array", () => {
  const buf = Uint8Array.from([1, 2, 3, 4, 5, 6]);
  const views = new ViewCache();
  const a = views.view(buf, 1, 4);
  const longer = views.view(buf, 1, 5);
  assert.notEqual(longer, a);
  assert.deepEqual([...longer], [2, 3, 4, 5]);
  assert.deepEqual([...views.view(buf, 2, 6)], [3, 4, 5, 6], "same length, other start");
  assert.deepEqual([...views.view(buf, 0, 0)], []);
  // An array with the same contents is another array: its own view.
  const other = Uint8Array.from(buf);
  const v = views.view(other, 2, 6);
  assert.equal(v.buffer, other.buffer);
  // A view of a view starts where the view does.
  const sub = buf.subarray(2);
  assert.deepEqual([...views.view(sub, 0, 2)], [3, 4]);
  assert.deepEqual([...views.view(buf, 0, 2)], [1, 2]);
});
