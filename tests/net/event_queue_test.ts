import assert from "node:assert/strict";
import fc from "fast-check";
import { EventQueue } from "../../src/net/sim/event_queue.ts";
import { CALL, SimEvent } from "../../src/net/sim/sim_event.ts";

Deno.test("EventQueue pops by time, ties in scheduling order, for any push order", () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), (times) => {
    const q = new EventQueue();
    const events = times.map((t, seq) => new SimEvent(t, seq, CALL, 0, 0, -1, null, null));
    for (const e of events) q.push(e);
    const popped: SimEvent[] = [];
    for (let e = q.pop(); e; e = q.pop()) popped.push(e);
    const expected = [...events].sort((a, b) => a.at - b.at || a.seq - b.seq);
    assert.deepEqual(popped.map((e) => e.seq), expected.map((e) => e.seq));
    assert.equal(q.size, 0);
  }));
});
