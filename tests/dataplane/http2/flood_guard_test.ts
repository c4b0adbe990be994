// The flood guard on its own: the server's reset allowance is a token bucket on injected
// time, and a backlog of unanswered control frames ends the connection.
import assert from "node:assert/strict";
import { FloodGuard } from "../../../src/dataplane/http2/_flood_guard.ts";
import { ErrorCode, FrameType, H2ConnectionError } from "../../../src/dataplane/http2/frame.ts";
import { FrameWriter } from "../../../src/dataplane/http2/frame_writer.ts";

const calm = (err: unknown) =>
  err instanceof H2ConnectionError && err.code === ErrorCode.ENHANCE_YOUR_CALM;

/** A writer whose socket never takes a byte. */
function stuckWriter(): FrameWriter {
  return new FrameWriter({ write: () => new Promise<number>(() => {}) }, () => {});
}

Deno.test("resets beyond the burst end the connection until the allowance refills", () => {
  let now = 1_000;
  const guard = new FloodGuard(stuckWriter(), {
    limitResets: true,
    maxResetBurst: 3,
    resetRefillPerSecond: 2,
    now: () => now,
  });
  for (let i = 0; i < 3; i++) guard.chargeReset();
  assert.throws(() => guard.chargeReset(), calm);
  now += 1_000; // two tokens back; one was overdrawn by the failed charge
  guard.chargeReset();
  assert.throws(() => guard.chargeReset(), calm);
});

Deno.test("the allowance never refills past the burst", () => {
  let now = 0;
  const guard = new FloodGuard(stuckWriter(), {
    limitResets: true,
    maxResetBurst: 2,
    resetRefillPerSecond: 1_000,
    now: () => now,
  });
  guard.chargeReset();
  now = 60_000;
  guard.chargeReset();
  guard.chargeReset();
  assert.throws(() => guard.chargeReset(), calm);
});

Deno.test("a client does not limit resets and does not read the clock for them", () => {
  const guard = new FloodGuard(stuckWriter(), {
    limitResets: false,
    maxResetBurst: 0,
    resetRefillPerSecond: 0,
    now: () => {
      throw new Error("the clock was read");
    },
  });
  for (let i = 0; i < 100; i++) guard.chargeReset();
});

Deno.test("10,000 unwritten control frames end the connection", () => {
  const w = stuckWriter();
  const guard = new FloodGuard(w, {
    limitResets: false,
    maxResetBurst: 0,
    resetRefillPerSecond: 0,
    now: () => 0,
  });
  for (let i = 0; i < 9_999; i++) w.frame(FrameType.PING, 1, 0, new Uint8Array(8));
  guard.checkBacklog();
  w.frame(FrameType.PING, 1, 0, new Uint8Array(8));
  assert.throws(() => guard.checkBacklog(), calm);
});
