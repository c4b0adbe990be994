import assert from "node:assert/strict";
import { Cancel } from "../../src/core/cancel.ts";
import { TimeoutError } from "../../src/core/abort.ts";

Deno.test("Cancel runs its callback once with the first reason", () => {
  const c = new Cancel();
  const calls: unknown[] = [];
  c.onCancel(() => calls.push(c.reason));
  assert.equal(c.cancelled, false);
  assert.equal(c.reason, undefined);
  const first = new TimeoutError("route timeout", 100);
  c.cancel(first);
  c.cancel(new Error("second"));
  assert.equal(c.cancelled, true);
  assert.equal(c.reason, first);
  assert.deepEqual(calls, [first]);
});

Deno.test("Cancel.onCancel replaces the earlier callback", () => {
  const c = new Cancel();
  const calls: string[] = [];
  c.onCancel(() => calls.push("old"));
  c.onCancel(() => calls.push("new"));
  c.cancel("x");
  assert.deepEqual(calls, ["new"]);
});

Deno.test("Cancel.onCancel(null) removes the callback", () => {
  const c = new Cancel();
  let called = false;
  c.onCancel(() => (called = true));
  c.onCancel(null);
  c.cancel("x");
  assert.equal(called, false);
  assert.equal(c.cancelled, true);
});

Deno.test("Cancel.onCancel after cancellation runs the callback at once", () => {
  const c = new Cancel();
  c.cancel("late");
  const seen: unknown[] = [];
  c.onCancel(() => seen.push(c.reason));
  assert.deepEqual(seen, ["late"]);
});

Deno.test("Cancel keeps its state when the callback throws", () => {
  const c = new Cancel();
  let calls = 0;
  c.onCancel(() => {
    calls++;
    throw new Error("boom");
  });
  assert.throws(() => c.cancel("r"), /boom/);
  assert.equal(c.cancelled, true);
  assert.equal(c.reason, "r");
  c.cancel("again");
  assert.equal(calls, 1);
  assert.equal(c.reason, "r");
});
