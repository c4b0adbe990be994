import assert from "node:assert/strict";
import type { Clock } from "../../src/core/clock.ts";
import { WallClock } from "../../src/dataplane/exchange.ts";

/** A clock whose wall time runs `offset` ms ahead of its monotonic time; counts wall reads. */
class SkewedClock implements Clock {
  mono = 5_000;
  offset = 1_700_000_000_000;
  wallReads = 0;
  now(): number {
    this.wallReads++;
    return this.mono + this.offset;
  }
  monotonic(): number {
    return this.mono;
  }
  setTimer(): never {
    throw new Error("not used");
  }
  sleep(): never {
    throw new Error("not used");
  }
}

Deno.test("WallClock gives wall times for monotonic ones, reading the wall clock once a second", () => {
  const clock = new SkewedClock();
  const wall = new WallClock(clock);
  assert.equal(wall.at(clock.mono), clock.mono + clock.offset);
  assert.equal(clock.wallReads, 1);
  for (let i = 0; i < 100; i++) {
    clock.mono += 5; // 500 ms in all
    assert.equal(wall.at(clock.mono + 0.25), clock.mono + 0.25 + clock.offset);
  }
  assert.equal(clock.wallReads, 1, "no wall-clock read within the second");
  // The wall clock is stepped (NTP): within the second the old offset holds, after it the
  // new one.
  clock.offset += 60_000;
  assert.equal(wall.at(clock.mono), clock.mono + clock.offset - 60_000);
  clock.mono += 600;
  assert.equal(wall.at(clock.mono), clock.mono + clock.offset);
  assert.equal(clock.wallReads, 2);
});
