import assert from "node:assert/strict";
import { toEndpoint } from "../../../src/discovery/mod.ts";
import { DEFAULT_EWMA_PENALTY_MS, Host } from "../../../src/dataplane/balance/mod.ts";

const endpoint = (weight = 1) =>
  toEndpoint({ address: { hostname: "10.0.0.1", port: 80 }, weight, labels: { v: "1" } });

Deno.test("Host counts requests, requests in flight and failures", () => {
  const host = new Host(endpoint(3), 0);
  assert.equal(host.key, "10.0.0.1:80");
  assert.equal(host.weight, 3);
  host.begin();
  host.begin();
  assert.equal(host.active, 2);
  assert.equal(host.requests, 2);
  host.end(10, 10, true);
  host.end(12, 12, false);
  assert.equal(host.active, 0);
  assert.equal(host.requests, 2);
  assert.equal(host.failures, 1);
  assert.equal(host.lastUsed, 12);
});

Deno.test("Host starts at the penalty estimate, fading until its first sample", () => {
  const host = new Host(endpoint(), 1000);
  assert.equal(DEFAULT_EWMA_PENALTY_MS, 30);
  assert.equal(host.ewmaMs, 30);
  assert.equal(host.lastUsed, undefined);
  assert.equal(host.ewmaAt(1000), 30);
  assert.ok(Math.abs(host.ewmaAt(11_000) - 30 * Math.exp(-1)) < 1e-9);
  const custom = new Host(endpoint(), 0, { penaltyMs: 250, decayMs: 1000 });
  assert.equal(custom.ewmaMs, 250);
  assert.ok(Math.abs(custom.ewmaAt(1000) - 250 * Math.exp(-1)) < 1e-9);
});

Deno.test("Host takes its first sample as the estimate, then follows peakEwma", () => {
  const host = new Host(endpoint(), 0);
  host.begin();
  host.end(5, 4, true);
  assert.equal(host.ewmaMs, 4); // the penalty is gone at once
  host.begin();
  host.end(6, 40, true);
  assert.equal(host.ewmaMs, 40); // a peak is taken as is
  host.begin();
  host.end(10_006, 10, true); // one decay time later: 1/e of the gap remains
  assert.ok(Math.abs(host.ewmaMs - (10 + 30 * Math.exp(-1))) < 1e-9);
  assert.equal(host.ewmaAt(10_006), host.ewmaMs);
});

Deno.test("Host never lowers its estimate on a failure", () => {
  const host = new Host(endpoint(), 0);
  host.begin();
  host.end(100, 1, false); // a fast failure before any success
  assert.equal(host.ewmaMs, DEFAULT_EWMA_PENALTY_MS);
  host.begin();
  host.end(200, 50, true);
  host.begin();
  host.end(60_000, 2, false);
  assert.equal(host.ewmaMs, 50);
  host.begin();
  host.end(60_001, 90, false); // a slow failure raises it
  assert.equal(host.ewmaMs, 90);
});

Deno.test("Host rejects end() without begin() and impossible latencies", () => {
  const host = new Host(endpoint(), 0);
  assert.throws(() => host.end(1, 1, true), { name: "RangeError", message: /without a matching/ });
  host.begin();
  assert.throws(() => host.end(1, -1, true), RangeError);
  assert.throws(() => host.end(1, NaN, true), RangeError);
  assert.equal(host.active, 1);
  assert.equal(host.ewmaMs, DEFAULT_EWMA_PENALTY_MS);
});

Deno.test("Host rejects invalid estimate options", () => {
  for (const options of [{ decayMs: 0 }, { decayMs: Infinity }, { penaltyMs: -1 }]) {
    assert.throws(() => new Host(endpoint(), 0, options), RangeError, JSON.stringify(options));
  }
});

Deno.test("Host takes a new version of its endpoint, not another endpoint", () => {
  const host = new Host(endpoint(1), 0);
  host.begin();
  host.setEndpoint(endpoint(5));
  assert.equal(host.weight, 5);
  assert.equal(host.active, 1);
  const other = toEndpoint({ address: { hostname: "10.0.0.2", port: 80 } });
  assert.throws(() => host.setEndpoint(other), { name: "TypeError", message: /10\.0\.0\.2:80/ });
});

Deno.test("Host serialises its state for the admin page", () => {
  const host = new Host(endpoint(2), 0);
  host.begin();
  host.begin();
  host.end(7, 7, true);
  assert.deepEqual(JSON.parse(JSON.stringify(host)), {
    key: "10.0.0.1:80",
    weight: 2,
    active: 1,
    requests: 2,
    failures: 0,
    ewmaMs: 7,
    lastUsed: 7,
  });
});

Deno.test("Host.abandon ends a request without a sample or a failure", () => {
  const host = new Host(endpoint(), 0);
  host.begin();
  host.end(10, 4, true);
  const estimate = host.ewmaMs;
  host.begin();
  host.abandon(20);
  assert.deepEqual([host.active, host.requests, host.failures], [0, 2, 0]);
  assert.equal(host.ewmaMs, estimate, "no latency sample");
  assert.equal(host.lastUsed, 20);
  assert.throws(() => host.abandon(30), RangeError);
});
