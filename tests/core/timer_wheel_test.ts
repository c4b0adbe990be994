import assert from "node:assert/strict";
import fc from "fast-check";
import type { Clock, Timer } from "../../src/core/clock.ts";
import { TimerWheel } from "../../src/core/timer_wheel.ts";
import { VirtualClock } from "../../src/core/virtual_clock.ts";

const TICK = 10;
const SLOTS = 8;
/** One full turn of the wheel: deadlines further out wait extra turns in their slot. */
const ROTATION = TICK * SLOTS;

/**
 * A wheel on a virtual clock that starts on a tick boundary, moved `offsetMs` into the tick
 * before the first entry is scheduled. `fire(id)` makes a callback recording its firing time.
 */
function setup(offsetMs = 0) {
  const clock = new VirtualClock();
  assert.equal(clock.monotonic() % TICK, 0);
  const wheel = new TimerWheel(clock, TICK, SLOTS);
  clock.advance(offsetMs);
  const fired: { id: string; at: number }[] = [];
  const fire = (id: string) => () => void fired.push({ id, at: clock.monotonic() });
  return { clock, wheel, fired, fire };
}

Deno.test("TimerWheel fires an entry at or after its deadline and at most one tick late", () => {
  // Every phase within a tick × delays over three turns of the wheel.
  for (let offset = 0; offset < TICK; offset++) {
    for (let delay = 0; delay <= 3 * ROTATION + TICK; delay++) {
      const { clock, wheel, fired, fire } = setup(offset);
      const deadline = clock.monotonic() + delay;
      wheel.schedule(delay, fire("t"));
      clock.advance(delay + 2 * TICK);
      const what = `delay ${delay} ms scheduled ${offset} ms into a tick`;
      assert.equal(fired.length, 1, `${what}: fired ${fired.length} times`);
      const late = fired[0].at - deadline;
      assert.ok(late >= 0, `${what}: fired ${-late} ms early`);
      assert.ok(late <= TICK, `${what}: fired ${late} ms late (tick is ${TICK} ms)`);
    }
  }
});

Deno.test("TimerWheel fires on the tick that covers the deadline", () => {
  const table: [offset: number, delay: number, firesAfter: number][] = [
    [0, 1, 10],
    [0, 10, 10],
    [0, 11, 20],
    [0, 25, 30],
    [3, 7, 10], // deadline 10: on the boundary
    [3, 8, 20], // deadline 11
    [7, 80, 90], // a whole turn away
    [7, 81, 90],
    [7, 84, 100],
  ];
  for (const [offset, delay, firesAfter] of table) {
    const { clock, wheel, fired, fire } = setup(offset);
    const start = clock.monotonic() - offset;
    wheel.schedule(delay, fire("t"));
    clock.advance(firesAfter - offset - 1);
    assert.equal(fired.length, 0, `offset ${offset}, delay ${delay}: fired too soon`);
    clock.advance(1);
    assert.deepEqual(fired, [{ id: "t", at: start + firesAfter }], `offset ${offset}, ${delay}`);
  }
});

Deno.test("TimerWheel fires entries in deadline order, whatever order they were scheduled in", () => {
  const { clock, wheel, fired, fire } = setup();
  for (const ms of [50, 10, 130, 30, 20, 95, 40, 250]) wheel.schedule(ms, fire(String(ms)));
  clock.advance(1000);
  assert.deepEqual(fired.map((f) => f.id), ["10", "20", "30", "40", "50", "95", "130", "250"]);
});

Deno.test("TimerWheel entries beyond one turn wait in their slot for the right turn", () => {
  const { clock, wheel, fired, fire } = setup();
  const start = clock.monotonic();
  // All of these share slot 1 of 8 (deadlines 10 + k × 80).
  for (const ms of [10, 90, 170, 810]) wheel.schedule(ms, fire(String(ms)));
  clock.advance(2000);
  assert.deepEqual(fired, [
    { id: "10", at: start + 10 },
    { id: "90", at: start + 90 },
    { id: "170", at: start + 170 },
    { id: "810", at: start + 810 },
  ]);
});

Deno.test("TimerWheel cancel before the deadline prevents firing; after firing it is a no-op", () => {
  const { clock, wheel, fired, fire } = setup();
  const a = wheel.schedule(30, fire("a"));
  const b = wheel.schedule(30, fire("b"));
  assert.equal(wheel.size, 2);
  a.cancel();
  a.cancel(); // idempotent
  assert.equal(wheel.size, 1);
  clock.advance(100);
  assert.deepEqual(fired.map((f) => f.id), ["b"]);
  b.cancel(); // already fired
  assert.equal(wheel.size, 0);
  clock.advance(1000);
  assert.deepEqual(fired.map((f) => f.id), ["b"]);
});

Deno.test("TimerWheel cancels any of many entries in one slot (swap-remove) exactly", () => {
  const { clock, wheel, fired, fire } = setup();
  const timers: Timer[] = [];
  for (let i = 0; i < 200; i++) timers.push(wheel.schedule(20 + (i % 3) * ROTATION, fire(`${i}`)));
  // Cancel a scattered subset: first, last, middle, neighbours.
  const cancelled = new Set([0, 199, 100, 101, 57, 58, 59, 3, 150, 198]);
  for (const i of [199, 0, 101, 100, 58, 57, 59, 198, 3, 150]) timers[i].cancel();
  assert.equal(wheel.size, 200 - cancelled.size);
  clock.advance(3 * ROTATION + 100);
  const ids = fired.map((f) => Number(f.id)).sort((x, y) => x - y);
  const want = [...Array(200).keys()].filter((i) => !cancelled.has(i));
  assert.deepEqual(ids, want);
  assert.equal(wheel.size, 0);
});

Deno.test("TimerWheel reschedule moves an entry later or earlier", () => {
  const { clock, wheel, fired, fire } = setup();
  const start = clock.monotonic();
  const idle = wheel.schedule(50, fire("idle"));
  clock.advance(40);
  wheel.reschedule(idle, 50); // activity: postpone to 90
  clock.advance(40);
  assert.equal(fired.length, 0, "fired at its old deadline");
  clock.advance(10);
  assert.deepEqual(fired, [{ id: "idle", at: start + 90 }]);

  const soon = wheel.schedule(500, fire("soon"));
  wheel.reschedule(soon, 20);
  clock.advance(20);
  assert.deepEqual(fired.map((f) => f.id), ["idle", "soon"]);
  clock.advance(1000);
  assert.equal(fired.length, 2, "the old deadline fired too");
  assert.equal(wheel.size, 0);
});

Deno.test("TimerWheel callbacks may cancel an entry due in the same tick", () => {
  const { clock, wheel, fired, fire } = setup();
  let b: Timer | undefined = undefined;
  wheel.schedule(15, () => {
    fired.push({ id: "a", at: clock.monotonic() });
    b!.cancel();
  });
  b = wheel.schedule(18, fire("b"));
  clock.advance(200);
  assert.deepEqual(fired.map((f) => f.id), ["a"]);
  assert.equal(wheel.size, 0);
});

Deno.test("TimerWheel callbacks may reschedule an entry due in the same tick", () => {
  const { clock, wheel, fired, fire } = setup();
  const start = clock.monotonic();
  let b: Timer | undefined = undefined;
  wheel.schedule(15, () => {
    fired.push({ id: "a", at: clock.monotonic() });
    wheel.reschedule(b!, 100);
  });
  b = wheel.schedule(18, fire("b"));
  clock.advance(500);
  assert.deepEqual(fired, [{ id: "a", at: start + 20 }, { id: "b", at: start + 120 }]);
});

Deno.test("TimerWheel callbacks may schedule new entries, even with no delay", () => {
  for (const ms of [0, 1, 10, 25, ROTATION, 3 * ROTATION + 5]) {
    const { clock, wheel, fired, fire } = setup();
    let scheduledAt = -1;
    wheel.schedule(20, () => {
      scheduledAt = clock.monotonic();
      wheel.schedule(ms, fire("child"));
    });
    clock.advance(20);
    assert.equal(scheduledAt, clock.monotonic());
    clock.advance(ms + TICK);
    assert.equal(fired.length, 1, `a ${ms} ms entry scheduled from a callback did not fire`);
    const late = fired[0].at - (scheduledAt + ms);
    assert.ok(late >= 0 && late <= TICK, `${ms} ms from a callback fired ${late} ms late`);
  }
});

Deno.test("TimerWheel a callback can reschedule its own entry to run periodically", () => {
  const { clock, wheel } = setup();
  const start = clock.monotonic();
  const runs: number[] = [];
  const t: Timer = wheel.schedule(30, () => {
    runs.push(clock.monotonic() - start);
    if (runs.length < 4) wheel.reschedule(t, 30);
  });
  clock.advance(1000);
  assert.deepEqual(runs, [30, 60, 90, 120]);
});

Deno.test("TimerWheel clear() cancels everything, including entries due in the firing tick", () => {
  const { clock, wheel, fired, fire } = setup();
  for (const ms of [15, 40, 200]) wheel.schedule(ms, fire(String(ms)));
  wheel.clear();
  assert.equal(wheel.size, 0);
  assert.equal(clock.pending, 0, "the runtime timer outlived clear()");
  clock.advance(1000);
  assert.equal(fired.length, 0);

  // Usable again afterwards.
  wheel.schedule(10, fire("again"));
  clock.advance(10);
  assert.deepEqual(fired.map((f) => f.id), ["again"]);

  // clear() from a callback stops the others due in the same tick.
  wheel.schedule(12, () => {
    fired.push({ id: "clearing", at: clock.monotonic() });
    wheel.clear();
  });
  wheel.schedule(14, fire("same tick"));
  wheel.schedule(50, fire("later"));
  clock.advance(1000);
  assert.deepEqual(fired.map((f) => f.id), ["again", "clearing"]);
  assert.equal(clock.pending, 0);
});

Deno.test("TimerWheel a callback that clears and schedules leaves one runtime timer", () => {
  const { clock, wheel, fired, fire } = setup();
  wheel.schedule(20, () => {
    wheel.clear();
    wheel.schedule(30, fire("after clear"));
  });
  wheel.schedule(25, fire("cleared"));
  clock.advance(20);
  assert.equal(clock.pending, 1, `${clock.pending} runtime timers`);
  clock.advance(100);
  assert.deepEqual(fired.map((f) => f.id), ["after clear"]);
  assert.equal(clock.pending, 0);
});

Deno.test("TimerWheel keeps working after a callback throws", () => {
  const { clock, wheel, fired, fire } = setup();
  const start = clock.monotonic();
  wheel.schedule(15, () => {
    throw new Error("callback bug");
  });
  wheel.schedule(18, fire("same tick"));
  wheel.schedule(100, fire("later"));
  assert.throws(() => clock.advance(200), /callback bug/);
  assert.equal(clock.pending, 1, "the wheel stopped ticking");
  clock.advance(200);
  // What was due with the failing callback runs one tick later; the rest on time.
  assert.deepEqual(fired, [{ id: "same tick", at: start + 30 }, { id: "later", at: start + 100 }]);
  wheel.schedule(10, fire("new"));
  clock.advance(10);
  assert.equal(fired.length, 3);
});

Deno.test("TimerWheel arms the runtime timer only while entries exist", () => {
  const { clock, wheel, fire } = setup();
  assert.equal(clock.pending, 0, "an empty wheel holds a runtime timer");
  const a = wheel.schedule(500, fire("a"));
  const b = wheel.schedule(700, fire("b"));
  assert.equal(clock.pending, 1, "one runtime timer for all entries");
  clock.advance(3 * TICK);
  assert.equal(clock.pending, 1);
  a.cancel();
  b.cancel();
  // Not stopped on every cancel (that would cost a runtime timer per request)...
  assert.equal(clock.pending, 1);
  // ...but it stops itself at the next tick.
  clock.advance(TICK);
  assert.equal(clock.pending, 0, "the runtime timer kept running for an empty wheel");

  // After the last entry fires, nothing keeps ticking either.
  wheel.schedule(30, fire("c"));
  assert.equal(clock.pending, 1);
  clock.advance(30);
  clock.advance(TICK);
  assert.equal(clock.pending, 0);
});

Deno.test("TimerWheel now() starts at the clock and touch() never moves it backwards", () => {
  const { clock, wheel } = setup();
  const t0 = clock.monotonic();
  assert.equal(wheel.now(), t0);
  clock.advance(1234);
  assert.equal(wheel.now(), t0, "now() read the clock (it is a cached time)");
  wheel.touch(t0 + 1000);
  assert.equal(wheel.now(), t0 + 1000);
  wheel.touch(t0 + 500);
  assert.equal(wheel.now(), t0 + 1000, "touch() moved time backwards");
  wheel.touch(t0 + 1234);
  assert.equal(wheel.now(), t0 + 1234);
});

Deno.test("TimerWheel now() is refreshed by every tick while entries are pending", () => {
  const { clock, wheel } = setup(4);
  wheel.schedule(10_000, () => {});
  for (let i = 0; i < 50; i++) {
    clock.advance(7);
    const stale = clock.monotonic() - wheel.now();
    assert.ok(stale >= 0 && stale < TICK, `now() is ${stale} ms stale`);
  }
});

Deno.test("TimerWheel an idle wheel reads the clock when scheduling", () => {
  const { clock, wheel, fired, fire } = setup();
  clock.advance(5_003);
  wheel.schedule(30, fire("t"));
  assert.equal(wheel.now(), clock.monotonic());
  const deadline = clock.monotonic() + 30;
  clock.advance(29);
  assert.equal(fired.length, 0, "fired before its deadline");
  clock.advance(TICK);
  assert.equal(fired.length, 1);
  assert.ok(fired[0].at >= deadline);
});

Deno.test("TimerWheel an idle wheel fires a 0 ms entry on the next tick, not a turn later", () => {
  for (const idleMs of [0, TICK, 7 * TICK, 100 * TICK, 100 * TICK + 3]) {
    const { clock, wheel, fired, fire } = setup();
    wheel.schedule(10, fire("warm-up"));
    clock.advance(10 + idleMs); // the wheel went idle and its cursor stayed behind
    const deadline = clock.monotonic();
    wheel.schedule(0, fire("now"));
    const t = wheel.schedule(5_000, fire("re"));
    wheel.reschedule(t, 0);
    clock.advance(TICK);
    assert.deepEqual(fired.map((f) => f.id).sort(), ["now", "re", "warm-up"], `idle ${idleMs} ms`);
    for (const f of fired.slice(1)) assert.ok(f.at - deadline <= TICK, `idle ${idleMs} ms`);
  }
});

/**
 * A clock whose runtime timer the test fires by hand, at a time of its choosing: a stand-in
 * for an event loop that was blocked past the wheel's tick.
 */
class StalledClock implements Clock {
  time = 1_000_000;
  timers: { fn: () => void; cancelled: boolean }[] = [];
  now = () => this.time;
  monotonic = () => this.time;
  setTimer(fn: () => void): Timer {
    const t = { fn, cancelled: false };
    this.timers.push(t);
    return { cancel: () => void (t.cancelled = true) };
  }
  sleep(): Promise<void> {
    throw new Error("not used");
  }
  /** Runs the armed runtime timer at `time`. */
  fireAt(time: number): void {
    this.time = time;
    const armed = this.timers.filter((t) => !t.cancelled);
    this.timers = [];
    assert.equal(armed.length, 1, `${armed.length} runtime timers armed`);
    armed[0].fn();
  }
}

Deno.test("TimerWheel a run that is late by several ticks fires everything due, in order", () => {
  const clock = new StalledClock();
  const wheel = new TimerWheel(clock, TICK, SLOTS);
  const fired: string[] = [];
  for (const ms of [45, 5, 25, 15, 35, 70, 200]) wheel.schedule(ms, () => fired.push(String(ms)));
  clock.fireAt(1_000_000 + 4 * TICK + 7); // blocked for four ticks
  assert.deepEqual(fired, ["5", "15", "25", "35"]);
  clock.fireAt(1_000_000 + 10 * ROTATION); // blocked for many turns
  assert.deepEqual(fired.slice(4).sort(), ["200", "45", "70"]);
  assert.equal(wheel.size, 0);
  assert.equal(clock.timers.filter((t) => !t.cancelled).length, 0);
});

Deno.test("TimerWheel a busy wheel counts from the cached now(), exact after touch()", () => {
  // Between ticks the cached time lags the clock by less than a tick; callers that just
  // read the clock pass it on with touch() and get a deadline counted from that reading.
  for (let lag = 0; lag < TICK; lag++) {
    for (const touch of [false, true]) {
      const { clock, wheel, fired, fire } = setup();
      wheel.schedule(10_000, () => {});
      clock.advance(10 * TICK + lag);
      if (touch) wheel.touch(clock.monotonic());
      const base = wheel.now();
      const readAt = clock.monotonic();
      wheel.schedule(25, fire("t"));
      clock.advance(25 + 2 * TICK);
      assert.equal(fired.length, 1);
      assert.ok(fired[0].at >= base + 25, `fired before now() + 25 (lag ${lag})`);
      if (touch) assert.ok(fired[0].at >= readAt + 25, `fired early after touch (lag ${lag})`);
      else assert.ok(fired[0].at > readAt + 25 - TICK, `more than a tick early (lag ${lag})`);
      assert.ok(fired[0].at <= readAt + 25 + TICK, `more than a tick late (lag ${lag})`);
    }
  }
});

/** What a callback does when it fires: nothing, cancel an entry, or schedule a new one. */
type Action = { kind: "none" } | { kind: "cancel"; pick: number } | {
  kind: "schedule";
  ms: number;
};

type Command =
  | { kind: "schedule"; ms: number; touch: boolean; then: Action }
  | { kind: "cancel"; pick: number }
  | { kind: "reschedule"; pick: number; ms: number }
  | { kind: "advance"; ms: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    kind: fc.constant("schedule" as const),
    ms: fc.integer({ min: 0, max: 3 * ROTATION }),
    touch: fc.boolean(),
    then: fc.oneof(
      { weight: 3, arbitrary: fc.constant({ kind: "none" as const }) },
      fc.record({ kind: fc.constant("cancel" as const), pick: fc.nat() }),
      fc.record({
        kind: fc.constant("schedule" as const),
        ms: fc.integer({ min: 0, max: 2 * ROTATION }),
      }),
    ),
  }),
  fc.record({ kind: fc.constant("cancel" as const), pick: fc.nat() }),
  fc.record({
    kind: fc.constant("reschedule" as const),
    pick: fc.nat(),
    ms: fc.integer({ min: 0, max: 3 * ROTATION }),
  }),
  fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 45 }) }),
);

interface Model {
  timer: Timer;
  deadline: number;
  state: "live" | "cancelled" | "fired";
  fires: number[];
}

Deno.test("TimerWheel property: exactly the uncancelled entries fire, each once, on time", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: TICK - 1 }),
      fc.array(command, { maxLength: 120 }),
      (offset, commands) => {
        const { clock, wheel } = setup(offset);
        const entries: Model[] = [];
        const live = () => entries.filter((e) => e.state === "live");

        const check = () => {
          const now = clock.monotonic();
          for (const [i, e] of entries.entries()) {
            assert.ok(e.fires.length <= 1, `entry ${i} fired ${e.fires.length} times`);
            if (e.state === "fired") {
              const late = e.fires[0] - e.deadline;
              assert.ok(late >= 0 && late <= TICK, `entry ${i} fired ${late} ms after deadline`);
            }
            if (e.state === "live") {
              assert.ok(now < e.deadline + TICK, `entry ${i} overdue by ${now - e.deadline} ms`);
            }
          }
          assert.equal(wheel.size, live().length);
          if (wheel.size > 0) assert.equal(clock.pending, 1);
          assert.ok(clock.pending <= 1, `${clock.pending} runtime timers`);
        };

        const cancel = (pick: number) => {
          if (entries.length === 0) return;
          const e = entries[pick % entries.length];
          e.timer.cancel();
          if (e.state === "live") e.state = "cancelled";
        };
        const schedule = (ms: number, then: Action) => {
          const e: Model = { timer: { cancel() {} }, deadline: 0, state: "live", fires: [] };
          e.timer = wheel.schedule(ms, () => {
            assert.equal(e.state, "live", `a ${e.state} entry fired`);
            e.state = "fired";
            e.fires.push(clock.monotonic());
            if (then.kind === "cancel") cancel(then.pick);
            if (then.kind === "schedule") schedule(then.ms, { kind: "none" });
          });
          e.deadline = wheel.now() + ms;
          entries.push(e);
          return e;
        };

        for (const c of commands) {
          if (c.kind === "schedule") {
            if (c.touch) wheel.touch(clock.monotonic());
            const e = schedule(c.ms, c.then);
            if (c.touch) assert.equal(e.deadline, clock.monotonic() + c.ms);
          } else if (c.kind === "cancel") {
            cancel(c.pick);
          } else if (c.kind === "reschedule") {
            const candidates = live();
            if (candidates.length === 0) continue;
            const e = candidates[c.pick % candidates.length];
            wheel.reschedule(e.timer, c.ms);
            e.deadline = wheel.now() + c.ms;
          } else if (c.kind === "advance") {
            clock.advance(c.ms);
          }
          check();
        }
        clock.advance(6 * ROTATION); // past every deadline, including callbacks' entries
        check();
        assert.deepEqual(live(), []);
        clock.advance(TICK);
        assert.equal(clock.pending, 0);
      },
    ),
    { numRuns: 300 },
  );
});
