import assert from "node:assert/strict";
import { VirtualClock } from "../../src/core/virtual_clock.ts";

Deno.test("VirtualClock starts at the given time and moves only on advance()", () => {
  const clock = new VirtualClock(5_000);
  assert.equal(clock.now(), 5_000);
  assert.equal(clock.monotonic(), 5_000);
  clock.advance(250);
  assert.equal(clock.now(), 5_250);
  assert.equal(clock.monotonic(), 5_250);
  assert.equal(new VirtualClock().now(), 1_700_000_000_000, "default start");
});

Deno.test("VirtualClock.advance fires timers in deadline order, ties in the order set", () => {
  const clock = new VirtualClock(0);
  const fired: string[] = [];
  const at: number[] = [];
  const timer = (id: string, ms: number) =>
    clock.setTimer(() => {
      fired.push(id);
      at.push(clock.now());
    }, ms);
  timer("c30", 30);
  timer("a10", 10);
  timer("tie1", 20);
  timer("b15", 15);
  timer("tie2", 20);
  timer("tie3", 20);
  timer("late", 101);
  clock.advance(100);
  assert.deepEqual(fired, ["a10", "b15", "tie1", "tie2", "tie3", "c30"]);
  assert.deepEqual(at, [10, 15, 20, 20, 20, 30], "callbacks see their own deadline as now");
  assert.equal(clock.now(), 100);
  assert.equal(clock.pending, 1);
  clock.advance(1);
  assert.deepEqual(fired.at(-1), "late");
});

Deno.test("VirtualClock fires timers set by callbacks within the same advance", () => {
  const clock = new VirtualClock(0);
  const fired: [string, number][] = [];
  clock.setTimer(() => {
    fired.push(["outer", clock.now()]);
    clock.setTimer(() => fired.push(["inner", clock.now()]), 5);
    clock.setTimer(() => fired.push(["zero", clock.now()]), 0);
    clock.setTimer(() => fired.push(["beyond", clock.now()]), 100);
  }, 10);
  clock.setTimer(() => fired.push(["other", clock.now()]), 12);
  clock.advance(50);
  assert.deepEqual(fired, [["outer", 10], ["zero", 10], ["other", 12], ["inner", 15]]);
  clock.advance(60);
  assert.deepEqual(fired.at(-1), ["beyond", 110]);
});

Deno.test("VirtualClock timer on the end of the advance window fires; one past it does not", () => {
  const clock = new VirtualClock(0);
  const fired: number[] = [];
  clock.setTimer(() => fired.push(100), 100);
  clock.setTimer(() => fired.push(101), 101);
  clock.advance(100);
  assert.deepEqual(fired, [100]);
});

Deno.test("VirtualClock negative delays fire at once on the next advance", () => {
  const clock = new VirtualClock(0);
  let at = -1;
  clock.setTimer(() => (at = clock.now()), -50);
  clock.advance(0);
  assert.equal(at, 0);
});

Deno.test("VirtualClock cancelled timers do not fire and are not pending", () => {
  const clock = new VirtualClock(0);
  const fired: string[] = [];
  const a = clock.setTimer(() => fired.push("a"), 10);
  clock.setTimer(() => fired.push("b"), 10);
  assert.equal(clock.pending, 2);
  a.cancel();
  a.cancel();
  assert.equal(clock.pending, 1);
  clock.advance(10);
  assert.deepEqual(fired, ["b"]);
  assert.equal(clock.pending, 0);
});

/** Records whether a promise settled, and how, without waiting for it. */
function track(p: Promise<void>) {
  const state = { settled: "no" as "no" | "resolved" | "rejected", reason: undefined as unknown };
  p.then(() => (state.settled = "resolved"), (err) => {
    state.settled = "rejected";
    state.reason = err;
  });
  return state;
}

/** Lets already-queued promise reactions run (no timers involved). */
const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

Deno.test("VirtualClock.sleep resolves when time reaches the deadline, not before", async () => {
  const clock = new VirtualClock(0);
  const s = track(clock.sleep(100));
  clock.advance(99);
  await settle();
  assert.equal(s.settled, "no");
  clock.advance(1);
  await settle();
  assert.equal(s.settled, "resolved");
  assert.equal(clock.pending, 0);
});

Deno.test("VirtualClock.sleep rejects with the abort reason when aborted", async () => {
  const clock = new VirtualClock(0);
  const ac = new AbortController();
  const s = track(clock.sleep(100, ac.signal));
  clock.advance(50);
  const reason = new Error("stop");
  ac.abort(reason);
  await settle();
  assert.equal(s.settled, "rejected");
  assert.equal(s.reason, reason);
  assert.equal(clock.pending, 0, "the aborted sleep left its timer behind");
});

Deno.test("VirtualClock.sleep on an aborted signal rejects at once without a timer", async () => {
  const clock = new VirtualClock(0);
  const ac = new AbortController();
  ac.abort("gone");
  await assert.rejects(clock.sleep(100, ac.signal), (err) => err === "gone");
  assert.equal(clock.pending, 0);
});

Deno.test("VirtualClock.sleep that finished ignores a later abort", async () => {
  const clock = new VirtualClock(0);
  const ac = new AbortController();
  const s = track(clock.sleep(10, ac.signal));
  clock.advance(10);
  ac.abort(new Error("too late"));
  await settle();
  assert.equal(s.settled, "resolved");
});
