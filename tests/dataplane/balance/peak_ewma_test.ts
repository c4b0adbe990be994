import assert from "node:assert/strict";
import fc from "fast-check";
import { seededRng, VirtualClock } from "../../../src/core/mod.ts";
import { toEndpoint } from "../../../src/discovery/mod.ts";
import { Host, PeakEwmaBalancer } from "../../../src/dataplane/balance/mod.ts";
import { balancerConformance, makeHosts, tally } from "./conformance.ts";

balancerConformance(
  "PeakEwmaBalancer",
  (rng) => new PeakEwmaBalancer({ rng }),
);

/** A cluster on virtual time whose hosts answer in the given latencies. */
function setup(latencies: number[]) {
  const clock = new VirtualClock();
  const hosts = latencies.map((_, i) =>
    new Host(toEndpoint({ address: { hostname: `10.0.0.${i + 1}`, port: 80 } }), clock.monotonic())
  );
  const lb = new PeakEwmaBalancer({ rng: seededRng(1) });
  lb.update(hosts);
  /** Sends one request to `host` that takes `ms`. */
  const serve = (host: Host, ms: number) => {
    host.begin();
    clock.advance(ms);
    host.end(clock.monotonic(), ms, true);
  };
  return { clock, hosts, lb, serve };
}

Deno.test("PeakEwmaBalancer prefers the faster host once it has samples", () => {
  const { hosts: [fast, slow], lb, serve } = setup([0, 0]);
  for (let i = 0; i < 10; i++) {
    serve(fast, 5);
    serve(slow, 50);
  }
  assert.deepEqual([...tally(lb, 1000).keys()], [fast]);
});

Deno.test("PeakEwmaBalancer turns away from a host at its first slow response", () => {
  const { hosts: [a, b], lb, serve } = setup([0, 0]);
  for (let i = 0; i < 10; i++) {
    serve(a, 5);
    serve(b, 20);
  }
  assert.equal(lb.pick(), a);
  serve(a, 500);
  assert.deepEqual([...tally(lb, 100).keys()], [b]);
});

Deno.test("PeakEwmaBalancer probes a slow host again once its estimate has faded", () => {
  const { clock, hosts: [a, b], lb, serve } = setup([0, 0]);
  serve(b, 20);
  serve(a, 500);
  // Traffic flows to b (refreshing its 20 ms estimate) until a's 500 ms fades below it:
  // 500·e^(-t/10 s) < 20 after about 32 s.
  const start = clock.monotonic();
  let back: number | undefined;
  while (clock.monotonic() - start < 60_000) {
    const host = lb.pick()!;
    if (host === a) {
      back = clock.monotonic() - start;
      break;
    }
    serve(host, 20);
    clock.advance(80);
  }
  assert.ok(back !== undefined && back > 25_000 && back < 40_000, `a probed after ${back} ms`);
});

Deno.test("PeakEwmaBalancer weighs latency by requests in flight", () => {
  const { hosts: [fast, slow], lb, serve } = setup([0, 0]);
  serve(fast, 5);
  serve(slow, 20);
  for (let i = 0; i < 3; i++) fast.begin(); // cost 5 × 4 = 20: a tie, either may win
  fast.begin(); // cost 5 × 5 = 25 > 20
  assert.deepEqual([...tally(lb, 200).keys()], [slow]);
});

Deno.test("PeakEwmaBalancer tries an unknown host only when known ones are slower", () => {
  const { hosts: [known, fresh], lb, serve } = setup([0, 0]);
  serve(known, 5);
  assert.deepEqual([...tally(lb, 200).keys()], [known]); // 5 ms beats the 30 ms penalty
  serve(known, 80);
  assert.deepEqual([...tally(lb, 200).keys()], [fresh]);
});

Deno.test("PeakEwmaBalancer keeps preferring the fast host across updates", () => {
  const { hosts: [fast, slow], lb, serve } = setup([0, 0]);
  serve(fast, 5);
  serve(slow, 50);
  lb.update([slow, fast]);
  assert.deepEqual([...tally(lb, 500).keys()], [fast]);
  lb.update([slow, fast, ...makeHosts([1], 11)].slice(0, 2));
  assert.deepEqual([...tally(lb, 500).keys()], [fast]);
});

Deno.test("PeakEwmaBalancer orders two hosts as their decayed costs at any later time", () => {
  const history = fc.array(
    fc.tuple(fc.integer({ min: 0, max: 60_000 }), fc.integer({ min: 0, max: 2_000 })),
    { maxLength: 6 },
  );
  fc.assert(
    fc.property(
      history,
      history,
      fc.nat(5),
      fc.nat(5),
      fc.integer({ min: 0, max: 120_000 }),
      (historyA, historyB, activeA, activeB, later) => {
        const { clock, hosts, lb } = setup([0, 0]);
        const start = clock.monotonic();
        // Each host gets samples at its own times, so their estimates have different ages.
        for (const [host, samples] of [[hosts[0], historyA], [hosts[1], historyB]] as const) {
          for (const [at, ms] of samples.sort((x, y) => x[0] - y[0])) {
            host.begin();
            host.end(start + at, ms, true);
          }
        }
        for (let i = 0; i < activeA; i++) hosts[0].begin();
        for (let i = 0; i < activeB; i++) hosts[1].begin();
        const now = start + 60_000 + later;
        const cost = (h: Host) => h.ewmaAt(now) * (h.active + 1);
        const picked = lb.pick()!;
        const other = picked === hosts[0] ? hosts[1] : hosts[0];
        assert.ok(cost(picked) <= cost(other) * (1 + 1e-9), `${cost(picked)} > ${cost(other)}`);
      },
    ),
    { seed: 5, numRuns: 400 },
  );
});

Deno.test("PeakEwmaBalancer needs one decay time for all hosts", () => {
  const lb = new PeakEwmaBalancer({ rng: seededRng(1) });
  const endpoint = (i: number) => toEndpoint({ address: { hostname: `10.0.0.${i}`, port: 80 } });
  const hosts = [new Host(endpoint(1), 0), new Host(endpoint(2), 0, { decayMs: 5_000 })];
  assert.throws(() => lb.update(hosts), { name: "RangeError", message: /same decayMs/ });
  lb.update([new Host(endpoint(3), 0, { decayMs: 5_000 }), hosts[1]]);
});
