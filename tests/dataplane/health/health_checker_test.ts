import assert from "node:assert/strict";
import type { HealthCheckConfig } from "../../../src/config/mod.ts";
import { VirtualClock } from "../../../src/core/mod.ts";
import {
  type CheckResult,
  HealthChecker,
  type HealthStatus,
  type Probe,
} from "../../../src/dataplane/health/mod.ts";
import { type Endpoint, toEndpoint } from "../../../src/discovery/mod.ts";

const INTERVAL = 5_000;
const TIMEOUT = 1_000;

function config(over: Partial<HealthCheckConfig> = {}): HealthCheckConfig {
  return {
    type: "tcp",
    path: "/healthz",
    interval: INTERVAL,
    interval_jitter: 0,
    timeout: TIMEOUT,
    healthy_threshold: 2,
    unhealthy_threshold: 3,
    expected_statuses: [[200, 399]],
    ...over,
  };
}

const endpoint = (port: number): Endpoint =>
  toEndpoint({ address: { hostname: "127.0.0.1", port } });

/** One probe call, settled by the test. */
interface Call {
  key: string;
  at: number;
  signal: AbortSignal;
  pass(): void;
  fail(why?: string): void;
}

/**
 * A checker on a virtual clock whose probe calls wait for the test to settle them. Checks
 * and status changes are recorded; `nextCheck()` resolves when the next check is recorded.
 */
function harness(over: Partial<HealthCheckConfig> = {}, rng = 0) {
  const clock = new VirtualClock(0);
  const calls: Call[] = [];
  const checks: [string, CheckResult, string | undefined][] = [];
  const changes: [string, HealthStatus, HealthStatus][] = [];
  let waiting: (() => void) | undefined;
  const probe: Probe = (ep, signal) => {
    const d = Promise.withResolvers<void>();
    calls.push({
      key: ep.key,
      at: clock.monotonic(),
      signal,
      pass: () => d.resolve(),
      fail: (why = "refused") => d.reject(new Error(why)),
    });
    return d.promise;
  };
  const checker = new HealthChecker(config(over), {
    clock,
    rng: () => rng,
    probe,
    onCheck: (key, result, detail) => {
      checks.push([key, result, detail]);
      waiting?.();
    },
    onChange: (key, from, to) => changes.push([key, from, to]),
  });
  const h = {
    clock,
    calls,
    checks,
    changes,
    checker,
    /** Resolves once one more check has been recorded. */
    nextCheck(): Promise<void> {
      return new Promise((r) => waiting = r);
    },
    /** Settles the last probe call with `ok` and waits for its check to be recorded. */
    async settle(ok: boolean): Promise<void> {
      const done = h.nextCheck();
      const call = calls.at(-1)!;
      if (ok) call.pass();
      else call.fail();
      await done;
    },
    /** Moves to the next check (one interval on) and settles it. */
    async check(ok: boolean): Promise<void> {
      const n = calls.length;
      clock.advance(INTERVAL);
      assert.equal(calls.length, n + 1, "a check starts one interval after the last ended");
      await h.settle(ok);
    },
  };
  return h;
}

Deno.test("health: a new endpoint is unchecked, checked at once, and its first check decides", async () => {
  for (const ok of [true, false]) {
    const h = harness();
    h.checker.setHosts([endpoint(1)]);
    assert.equal(h.checker.status("127.0.0.1:1"), "unchecked");
    assert.equal(h.calls.length, 1, "checked at once");
    await h.settle(ok);
    const to = ok ? "healthy" : "unhealthy";
    assert.equal(h.checker.status("127.0.0.1:1"), to);
    assert.deepEqual(h.changes, [["127.0.0.1:1", "unchecked", to]]);
    h.checker.stop();
  }
});

Deno.test("health: unhealthy_threshold failures in a row mark a healthy endpoint unhealthy", async () => {
  const h = harness();
  h.checker.setHosts([endpoint(1)]);
  await h.settle(true);
  await h.check(false);
  await h.check(false);
  await h.check(true); // the run is broken: the count starts again
  await h.check(false);
  await h.check(false);
  assert.equal(h.checker.status("127.0.0.1:1"), "healthy");
  await h.check(false);
  assert.equal(h.checker.status("127.0.0.1:1"), "unhealthy");
  assert.deepEqual(h.changes.at(-1), ["127.0.0.1:1", "healthy", "unhealthy"]);
  h.checker.stop();
});

Deno.test("health: healthy_threshold successes in a row bring an unhealthy endpoint back", async () => {
  const h = harness({ healthy_threshold: 3 });
  h.checker.setHosts([endpoint(1)]);
  await h.settle(false);
  await h.check(true);
  await h.check(true);
  await h.check(false);
  await h.check(true);
  await h.check(true);
  assert.equal(h.checker.status("127.0.0.1:1"), "unhealthy");
  await h.check(true);
  assert.equal(h.checker.status("127.0.0.1:1"), "healthy");
  assert.deepEqual(h.changes.map((c) => c[2]), ["unhealthy", "healthy"]);
  h.checker.stop();
});

Deno.test("health: a check without an answer times out, and its probe is aborted", async () => {
  const h = harness({ unhealthy_threshold: 1 });
  h.checker.setHosts([endpoint(1)]);
  await h.settle(true);
  h.clock.advance(INTERVAL);
  const call = h.calls.at(-1)!;
  const done = h.nextCheck();
  h.clock.advance(TIMEOUT - 1);
  assert.equal(call.signal.aborted, false);
  h.clock.advance(1);
  await done;
  assert.equal(call.signal.aborted, true, "the probe is told to give up");
  assert.deepEqual(h.checks.at(-1), ["127.0.0.1:1", "timeout", `no answer within ${TIMEOUT} ms`]);
  assert.equal(h.checker.status("127.0.0.1:1"), "unhealthy");
  call.pass(); // a late answer changes nothing
  // The next check is one interval after the timeout.
  const n = h.calls.length;
  h.clock.advance(INTERVAL - 1);
  assert.equal(h.calls.length, n);
  h.clock.advance(1);
  assert.equal(h.calls.length, n + 1);
  await h.settle(false);
  assert.deepEqual(h.checks.map((c) => c[1]), ["success", "timeout", "failure"]);
  h.checker.stop();
});

Deno.test("health: failures say why; the interval counts from the end of a check, plus jitter", async () => {
  const h = harness({ interval_jitter: 1_000 }, 0.5);
  h.checker.setHosts([endpoint(1)]);
  const done = h.nextCheck();
  h.clock.advance(300); // the check takes 300 ms
  h.calls[0].fail("connection refused");
  await done;
  assert.deepEqual(h.checks[0], ["127.0.0.1:1", "failure", "connection refused"]);
  h.clock.advance(INTERVAL + 500 - 1);
  assert.equal(h.calls.length, 1);
  h.clock.advance(1);
  assert.equal(h.calls.length, 2);
  assert.equal(h.calls[1].at, 300 + INTERVAL + 500);
  h.checker.stop();
});

Deno.test("health: setHosts checks new endpoints, stops removed ones, keeps the others", async () => {
  const h = harness();
  h.checker.setHosts([endpoint(1), endpoint(2)]);
  assert.deepEqual(h.calls.map((c) => c.key), ["127.0.0.1:1", "127.0.0.1:2"]);
  let done = h.nextCheck();
  h.calls[0].pass();
  await done;
  // Endpoint 2's check is in flight when it goes away.
  h.checker.setHosts([endpoint(1), endpoint(3)]);
  assert.equal(h.calls[1].signal.aborted, true, "the removed endpoint's check is abandoned");
  assert.deepEqual(h.calls.map((c) => c.key).slice(2), ["127.0.0.1:3"], "the new one at once");
  assert.equal(h.checker.status("127.0.0.1:1"), "healthy", "kept");
  assert.equal(h.checker.status("127.0.0.1:2"), "unchecked", "forgotten");
  done = h.nextCheck();
  h.calls[2].pass();
  await done;
  h.clock.advance(INTERVAL);
  assert.deepEqual(h.calls.slice(3).map((c) => c.key), ["127.0.0.1:1", "127.0.0.1:3"]);
  h.checker.stop();
});

Deno.test("health: stop cancels every check and timer", async () => {
  const h = harness();
  h.checker.setHosts([endpoint(1), endpoint(2)]);
  const done = h.nextCheck();
  h.calls[0].pass();
  await done;
  h.checker.stop();
  assert.equal(h.calls[1].signal.aborted, true);
  assert.equal(h.clock.pending, 0, "no timer left");
  h.clock.advance(10 * INTERVAL);
  assert.equal(h.calls.length, 2);
  h.checker.setHosts([endpoint(5)]);
  assert.equal(h.calls.length, 2, "a stopped checker starts nothing");
  assert.equal(h.checker.status("127.0.0.1:1"), "healthy", "statuses stay readable");
});

Deno.test("health: adopt takes over statuses of endpoints not yet checked here", async () => {
  const old = harness();
  old.checker.setHosts([endpoint(1), endpoint(2)]);
  let done = old.nextCheck();
  old.calls[0].fail();
  await done;
  done = old.nextCheck();
  old.calls[1].pass();
  await done;
  const next = harness();
  next.checker.setHosts([endpoint(1), endpoint(2), endpoint(3)]);
  done = next.nextCheck();
  next.calls[1].fail(); // endpoint 2 has a result of its own here already
  await done;
  next.checker.adopt(old.checker);
  assert.equal(next.checker.status("127.0.0.1:1"), "unhealthy", "taken over");
  assert.equal(next.checker.status("127.0.0.1:2"), "unhealthy", "its own result stands");
  assert.equal(next.checker.status("127.0.0.1:3"), "unchecked");
  old.checker.stop();
  next.checker.stop();
});
