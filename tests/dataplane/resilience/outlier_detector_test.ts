import assert from "node:assert/strict";
import type { OutlierDetectionConfig } from "../../../src/config/mod.ts";
import {
  type EjectionReason,
  OutlierDetector,
  type OutlierOutcome,
} from "../../../src/dataplane/resilience/mod.ts";

const INTERVAL = 10_000;
const BASE = 30_000;
const MAX = 300_000;

/** Envoy's defaults, except that every host may be ejected unless a test says otherwise. */
function config(over: Partial<OutlierDetectionConfig> = {}): OutlierDetectionConfig {
  return {
    consecutive_5xx: 5,
    consecutive_gateway_failure: 5,
    consecutive_local_origin_failure: 5,
    interval: INTERVAL,
    base_ejection_time: BASE,
    max_ejection_time: MAX,
    max_ejection_percent: 100,
    success_rate_minimum_hosts: 5,
    success_rate_request_volume: 100,
    success_rate_stdev_factor: 1900,
    enforcing_success_rate: 100,
    ...over,
  };
}

/** A detector over hosts `a`…, on a virtual clock `h.t` (ms), recording what it reports. */
function harness(over: Partial<OutlierDetectionConfig> = {}, hosts = ["a", "b", "c"], rng = 0) {
  const h = {
    t: 0,
    ejections: [] as [string, EjectionReason, number][],
    returns: [] as string[],
    detector: undefined as unknown as OutlierDetector,
    /** Records `outcomes` for `key`; returns the index of the one that ejected it, or -1. */
    run(key: string, outcomes: OutlierOutcome[]): number {
      return outcomes.findIndex((o) => h.detector.record(key, o));
    },
    /** Moves the clock to the next interval and ticks. */
    tick(): boolean {
      h.t += INTERVAL;
      return h.detector.tick();
    },
  };
  h.detector = new OutlierDetector(config(over), {
    now: () => h.t,
    rng: () => rng,
    onEject: (key, reason, ms) => h.ejections.push([key, reason, ms]),
    onReturn: (key) => h.returns.push(key),
  });
  h.detector.setHosts(hosts);
  return h;
}

const L = "local_origin_failure" as const;
const C = "local_origin_success" as const;
const times = <T>(n: number, v: T): T[] => Array(n).fill(v);

Deno.test("outlier: consecutive errors eject on the outcome that reaches the threshold", () => {
  const cases: {
    name: string;
    over?: Partial<OutlierDetectionConfig>;
    outcomes: OutlierOutcome[];
    at: number; // index of the ejecting outcome, -1 for none
    reason?: EjectionReason;
  }[] = [
    { name: "5 × 500", outcomes: times(5, 500), at: 4, reason: "consecutive_5xx" },
    { name: "4 × 500", outcomes: times(4, 500), at: -1 },
    { name: "a 200 resets", outcomes: [500, 500, 500, 500, 200, 500], at: -1 },
    { name: "a 404 resets", outcomes: [500, 500, 500, 500, 404, 500, 500], at: -1 },
    {
      name: "503s: gateway first",
      outcomes: times(5, 503),
      at: 4,
      reason: "consecutive_gateway_failure",
    },
    {
      name: "a 500 resets the gateway count",
      over: { consecutive_5xx: 0 },
      outcomes: [502, 502, 502, 502, 500, 502, 502, 502, 502],
      at: -1,
    },
    {
      name: "a 500 counts toward consecutive_5xx with the gateway failures",
      outcomes: [502, 502, 502, 502, 500],
      at: 4,
      reason: "consecutive_5xx",
    },
    {
      name: "gateway threshold below the 5xx one",
      over: { consecutive_gateway_failure: 2 },
      outcomes: [500, 502, 504],
      at: 2,
      reason: "consecutive_gateway_failure",
    },
    {
      name: "consecutive_5xx 0 is off",
      over: { consecutive_5xx: 0 },
      outcomes: times(20, 500),
      at: -1,
    },
    {
      name: "5 local failures",
      outcomes: times(5, L),
      at: 4,
      reason: "consecutive_local_origin_failure",
    },
    { name: "any response resets local failures", outcomes: [L, L, L, L, 500, L], at: -1 },
    { name: "an opened connection resets them", outcomes: [L, L, L, L, C, L], at: -1 },
    {
      name: "local failures do not reset the 5xx count",
      outcomes: [500, 500, L, 500, L, 500, 500],
      at: 6,
      reason: "consecutive_5xx",
    },
    {
      name: "consecutive_local_origin_failure 0 is off",
      over: { consecutive_local_origin_failure: 0 },
      outcomes: times(20, L),
      at: -1,
    },
  ];
  for (const c of cases) {
    const h = harness(c.over);
    assert.equal(h.run("a", c.outcomes), c.at, c.name);
    assert.equal(h.detector.isEjected("a"), c.at >= 0, c.name);
    if (c.reason) assert.deepEqual(h.ejections, [["a", c.reason, BASE]], c.name);
    else assert.deepEqual(h.ejections, [], c.name);
  }
});

Deno.test("outlier: an ejected host's outcomes are ignored, and it returns with clean counts", () => {
  const h = harness();
  assert.equal(h.run("a", times(5, 500)), 4);
  // In flight when it was ejected: not counted, not another ejection.
  assert.equal(h.run("a", times(10, 500)), -1);
  assert.equal(h.detector.state("a")!.ejections, 1);
  h.tick();
  h.tick();
  h.tick(); // 30 s: the base ejection time is over
  assert.equal(h.detector.isEjected("a"), false);
  assert.deepEqual(h.returns, ["a"]);
  assert.equal(h.run("a", times(4, 500)), -1, "the count starts again from zero");
});

Deno.test("outlier: ejections last base × ejections in a row, capped, and end at a tick", () => {
  const h = harness({ max_ejection_time: 70_000 });
  const eject = () => assert.ok(h.run("a", times(5, 500)) >= 0, "ejected");
  /** Ticks until `a` returns; the time it was out, in ms. */
  const out = () => {
    const from = h.t;
    while (h.detector.isEjected("a")) {
      assert.ok(h.t - from < 1_000_000, "it comes back");
      h.tick();
    }
    return h.t - from;
  };
  eject();
  assert.equal(h.detector.state("a")!.ejectedUntil, h.t + 30_000);
  assert.equal(out(), 30_000);
  eject(); // at once: the second in a row
  assert.equal(out(), 60_000);
  eject();
  assert.equal(out(), 70_000, "capped at max_ejection_time");
  assert.deepEqual(h.ejections.map((e) => e[2]), [30_000, 60_000, 70_000]);
  assert.equal(h.detector.state("a")!.ejections, 3);
});

Deno.test("outlier: the ejection time falls back one step for each interval a host stays in", () => {
  const h = harness();
  for (let i = 0; i < 3; i++) {
    h.run("a", times(5, 500));
    while (h.detector.isEjected("a")) h.tick();
  }
  assert.deepEqual(h.ejections.map((e) => e[2]), [BASE, 2 * BASE, 3 * BASE]);
  // The next would be 4 × base; two good intervals take it back to 2 × base.
  h.tick();
  h.tick();
  h.run("a", times(5, 500));
  assert.equal(h.ejections.at(-1)![2], 2 * BASE);
  while (h.detector.isEjected("a")) h.tick();
  for (let i = 0; i < 5; i++) h.tick();
  h.run("a", times(5, 500));
  assert.equal(h.ejections.at(-1)![2], BASE, "after long enough, back to the base time");
});

Deno.test("outlier: an ejection waits for the tick after its time is over", () => {
  const h = harness({ base_ejection_time: 25_000 });
  h.run("a", times(5, 500));
  h.tick(); // 10 s
  h.tick(); // 20 s
  assert.equal(h.detector.isEjected("a"), true);
  assert.equal(h.tick(), true, "the tick reports the change");
  assert.equal(h.detector.isEjected("a"), false, "back at 30 s, the first tick after 25 s");
  assert.equal(h.tick(), false, "nothing changed");
});

Deno.test("outlier: never more than max_ejection_percent ejected, but always one", () => {
  const cases: [hosts: number, percent: number, ejectable: number][] = [
    [3, 10, 1],
    [3, 0, 0],
    [3, 34, 1],
    [3, 67, 2],
    [3, 100, 3],
    [10, 20, 2],
    [10, 25, 2],
    [10, 30, 3],
  ];
  for (const [n, percent, want] of cases) {
    const keys = Array.from({ length: n }, (_, i) => `h${i}`);
    const h = harness({ max_ejection_percent: percent }, keys);
    for (const k of keys) h.run(k, times(5, 500));
    assert.equal(h.detector.ejectedCount, want, `${n} hosts at ${percent} %`);
    assert.equal(h.ejections.length, want);
  }
});

Deno.test("outlier: a refused ejection starts its count again; a removed host frees its place", () => {
  const h = harness({ max_ejection_percent: 10 });
  assert.equal(h.run("a", times(5, 500)), 4);
  assert.equal(h.run("b", times(5, 500)), -1, "refused: 2 of 3 is more than 10 %");
  assert.equal(h.run("b", times(4, 500)), -1, "the count started again at the refusal");
  h.detector.setHosts(["b", "c"]); // a is gone
  assert.equal(h.detector.ejectedCount, 0);
  assert.equal(h.run("b", [500]), 0, "now b may go: its 5th 5xx since the refusal");
  assert.equal(h.detector.state("a"), undefined);
});

/** Records `total` outcomes for `key`, `failed` of them 500s, the rest 200s. */
function volume(h: ReturnType<typeof harness>, key: string, total: number, failed: number) {
  for (let i = 0; i < total; i++) h.detector.record(key, i < failed ? 500 : 200);
}

Deno.test("outlier: success rate ejects hosts below mean − stdev × factor at the tick", () => {
  const keys = ["a", "b", "c", "d", "e", "f"];
  const cases: {
    name: string;
    over?: Partial<OutlierDetectionConfig>;
    rng?: number;
    load: [key: string, total: number, failed: number][];
    ejected: string[];
  }[] = [
    {
      // Rates 100 ×4 and 50: threshold 52 (see outlier_math_test).
      name: "one host at 50 % among 100 %",
      load: [["a", 100, 0], ["b", 100, 0], ["c", 100, 0], ["d", 100, 0], ["e", 100, 50]],
      ejected: ["e"],
    },
    {
      name: "fewer than success_rate_minimum_hosts hosts with volume",
      load: [["a", 100, 0], ["b", 100, 0], ["c", 100, 0], ["d", 99, 0], ["e", 100, 50]],
      ejected: [],
    },
    {
      name: "a lower minimum",
      over: { success_rate_minimum_hosts: 4 },
      load: [["a", 100, 0], ["b", 100, 0], ["c", 100, 0], ["e", 100, 50]],
      // Rates 100 ×3, 50: mean 87.5, stdev 21.65, threshold 46.4 — 50 is above it.
      ejected: [],
    },
    {
      name: "a smaller factor",
      over: { success_rate_minimum_hosts: 4, success_rate_stdev_factor: 1000 },
      load: [["a", 100, 0], ["b", 100, 0], ["c", 100, 0], ["e", 100, 50]],
      ejected: ["e"],
    },
    {
      name: "all equally bad: nobody below the mean",
      load: [["a", 100, 50], ["b", 100, 50], ["c", 100, 50], ["d", 100, 50], ["e", 100, 50]],
      ejected: [],
    },
    {
      name: "enforcing_success_rate 0 never ejects",
      over: { enforcing_success_rate: 0 },
      load: [["a", 100, 0], ["b", 100, 0], ["c", 100, 0], ["d", 100, 0], ["e", 100, 50]],
      ejected: [],
    },
    {
      name: "enforcing_success_rate 30 ejects on a draw below 0.3",
      over: { enforcing_success_rate: 30 },
      rng: 0.29,
      load: [["a", 100, 0], ["b", 100, 0], ["c", 100, 0], ["d", 100, 0], ["e", 100, 50]],
      ejected: ["e"],
    },
    {
      name: "enforcing_success_rate 30 spares on a draw of 0.3",
      over: { enforcing_success_rate: 30 },
      rng: 0.3,
      load: [["a", 100, 0], ["b", 100, 0], ["c", 100, 0], ["d", 100, 0], ["e", 100, 50]],
      ejected: [],
    },
  ];
  for (const c of cases) {
    const h = harness({ consecutive_5xx: 0, ...c.over }, keys, c.rng ?? 0);
    for (const [key, total, failed] of c.load) volume(h, key, total, failed);
    assert.equal(h.ejections.length, 0, `${c.name}: nothing before the tick`);
    h.tick();
    assert.deepEqual(h.ejections.map((e) => e[0]), c.ejected, c.name);
    for (const [, reason] of h.ejections) assert.equal(reason, "success_rate");
  }
});

Deno.test("outlier: success rates are taken per interval", () => {
  const h = harness({ consecutive_5xx: 0 }, ["a", "b", "c", "d", "e"]);
  for (const k of ["a", "b", "c", "d"]) volume(h, k, 60, 0);
  volume(h, "e", 60, 30);
  h.tick(); // 60 requests each: below the volume of 100
  for (const k of ["a", "b", "c", "d"]) volume(h, k, 60, 0);
  volume(h, "e", 60, 30);
  h.tick(); // the first interval's requests do not add up with these
  assert.deepEqual(h.ejections, []);
  for (const k of ["a", "b", "c", "d"]) volume(h, k, 100, 0);
  volume(h, "e", 100, 50);
  h.tick();
  assert.deepEqual(h.ejections.map((e) => e[0]), ["e"]);
});

Deno.test("outlier: adopt takes over the ejections of the hosts both know", () => {
  const old = harness();
  old.run("a", times(5, 500));
  const next = harness({}, ["a", "c", "d"]);
  next.t = old.t;
  next.detector.adopt(old.detector);
  assert.equal(next.detector.isEjected("a"), true);
  assert.equal(next.detector.ejectedCount, 1);
  assert.equal(next.detector.state("d")!.ejections, 0);
  // The copy is the new detector's own: the old one moving on changes nothing here.
  old.tick();
  old.tick();
  old.tick();
  assert.equal(old.detector.isEjected("a"), false);
  assert.equal(next.detector.isEjected("a"), true);
});
