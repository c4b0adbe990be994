import assert from "node:assert/strict";
import { type FaultDecision, FaultInjector } from "../../../src/dataplane/resilience/mod.ts";
import type { FaultConfig } from "../../../src/config/mod.ts";
import { type Rng, seededRng } from "../../../src/core/rng.ts";
import { routesFromConfig } from "../config_fixture.ts";

/** The largest value a uniform [0, 1) source can return from 32 random bits. */
const ALMOST_ONE = 1 - 2 ** -32;
const DRAWS = 10_000;

/** A route's `fault` as written in YAML, validated by the real schema (defaults applied). */
function fault(spec: unknown): FaultConfig {
  return routesFromConfig([{ match: { prefix: "/" }, cluster: "a", fault: spec }])[0].fault!;
}

/** Percentages of `DRAWS` requests delayed, aborted, and both. */
function shares(
  config: FaultConfig,
  seed: number,
): { delayed: number; aborted: number; both: number } {
  const faults = new FaultInjector(config, seededRng(seed));
  let delayed = 0, aborted = 0, both = 0;
  for (let i = 0; i < DRAWS; i++) {
    const d = faults.decide([], false);
    if (d === null) continue;
    assert.ok(d.delayMs > 0 || d.abort !== null, "a decision that injects nothing must be null");
    if (d.delayMs > 0) delayed++;
    if (d.abort !== null) aborted++;
    if (d.delayMs > 0 && d.abort !== null) both++;
  }
  const pct = (n: number) => (n * 100) / DRAWS;
  return { delayed: pct(delayed), aborted: pct(aborted), both: pct(both) };
}

function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual.toFixed(2)} % is not within ${expected} ± ${tolerance} %`,
  );
}

Deno.test("FaultInjector delays and aborts their percentage of 10,000 requests", () => {
  const table: [delay: number, abort: number, tolerance: number][] = [
    [10, 0, 1.5],
    [0, 10, 1.5],
    [50, 0, 1.5],
    [0, 2.5, 0.75],
    [0.5, 0, 0.25], // decimals are percent, not a fraction or rounded
    [25, 75, 1.5],
  ];
  for (const [delay, abort, tolerance] of table) {
    for (const seed of [1, 2, 3]) {
      const spec: Record<string, unknown> = {};
      if (delay > 0) spec.delay = { fixed_delay: "100ms", percentage: delay };
      if (abort > 0) spec.abort = { http_status: 503, percentage: abort };
      const s = shares(fault(spec), seed);
      const what = `delay ${delay} %, abort ${abort} %, seed ${seed}`;
      near(s.delayed, delay, tolerance, `${what}: delayed`);
      near(s.aborted, abort, tolerance, `${what}: aborted`);
    }
  }
});

Deno.test("FaultInjector draws the delay and the abort independently", () => {
  // With one shared draw, 50 % and 50 % would give 50 % both or 0 % both; independent: 25 %.
  for (const seed of [1, 2, 3]) {
    const s = shares(
      fault({
        delay: { fixed_delay: "1s", percentage: 50 },
        abort: { http_status: 500, percentage: 50 },
      }),
      seed,
    );
    near(s.both, 25, 1.5, `seed ${seed}: delayed and aborted`);
  }
});

Deno.test("FaultInjector at 0 % never injects and at 100 % always does, at the edges of the RNG", () => {
  const table: [percent: number, rng: Rng, injected: boolean][] = [
    [0, () => 0, false],
    [0, () => ALMOST_ONE, false],
    [100, () => 0, true],
    [100, () => ALMOST_ONE, true],
    [10, () => 0.0999, true],
    [10, () => 0.1, false],
  ];
  for (const [percent, rng, injected] of table) {
    const delays = new FaultInjector(
      fault({ delay: { fixed_delay: "2s", percentage: percent } }),
      rng,
    );
    const aborts = new FaultInjector(
      fault({ abort: { http_status: 418, percentage: percent } }),
      rng,
    );
    const value = rng();
    for (let i = 0; i < 100; i++) {
      const d = delays.decide([], false);
      assert.deepEqual(
        d === null ? null : { ...d },
        injected ? { delayMs: 2000, abort: null } : null,
        `delay ${percent} % at ${value}`,
      );
      const a = aborts.decide([], false);
      assert.deepEqual(
        a === null ? null : { delayMs: a.delayMs, abort: { ...a.abort } },
        injected ? { delayMs: 0, abort: { status: 418 } } : null,
        `abort ${percent} % at ${value}`,
      );
    }
  }
});

Deno.test("FaultInjector injects only into requests that meet every header condition", () => {
  const faults = new FaultInjector(
    fault({
      abort: { http_status: 503, percentage: 100 },
      headers: [
        { name: "x-skiff-fault", present: true },
        { name: "x-tenant", exact: "test" },
      ],
    }),
    () => 0,
  );
  const table: [headers: string[], injected: boolean][] = [
    [[], false],
    [["x-skiff-fault", "1"], false],
    [["x-tenant", "test"], false],
    [["x-skiff-fault", "1", "x-tenant", "prod"], false],
    [["x-skiff-fault", "", "x-tenant", "test"], true],
    [["x-tenant", "test", "accept", "*/*", "x-skiff-fault", "yes"], true],
  ];
  for (const [headers, injected] of table) {
    assert.equal(faults.decide(headers, false) !== null, injected, JSON.stringify(headers));
  }
});

Deno.test("FaultInjector answers gRPC aborts with grpc-status and others with an HTTP status", () => {
  const table: [
    abort: Record<string, number>,
    grpc: boolean,
    status: number,
    grpcStatus?: number,
  ][] = [
    [{ http_status: 503, grpc_status: 14 }, true, 200, 14],
    [{ http_status: 503, grpc_status: 14 }, false, 503],
    [{ grpc_status: 4 }, true, 200, 4],
    [{ grpc_status: 4 }, false, 503], // only grpc_status: plain HTTP gets 503
    [{ grpc_status: 0 }, true, 200, 0], // OK is a status too
    [{ http_status: 429 }, true, 429], // no grpc_status: the HTTP status, also for gRPC
    [{ http_status: 429 }, false, 429],
  ];
  for (const [abort, grpc, status, grpcStatus] of table) {
    const faults = new FaultInjector(fault({ abort: { ...abort, percentage: 100 } }), () => 0);
    const d = faults.decide([], grpc);
    const what = `${JSON.stringify(abort)} for ${grpc ? "gRPC" : "HTTP"}`;
    assert.notEqual(d, null, what);
    assert.deepEqual(
      { ...d!.abort },
      grpcStatus === undefined ? { status } : { status, grpcStatus },
      what,
    );
  }
});

Deno.test("FaultInjector delays by fixed_delay and may delay and abort the same request", () => {
  const faults = new FaultInjector(
    fault({
      delay: { fixed_delay: "250ms", percentage: 100 },
      abort: { http_status: 500, percentage: 100 },
    }),
    () => 0,
  );
  const d: FaultDecision | null = faults.decide([], false);
  assert.equal(d?.delayMs, 250);
  assert.equal(d?.abort?.status, 500);
});
