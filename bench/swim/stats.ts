import type { Blame, CrashSample, FalseCounts, JoinSample, RunResult } from "./run_scenario.ts";
import { percentile } from "../../src/demo/summary.ts";

/** Mean, median, 99th percentile (nearest rank) and maximum of some samples. */
export interface Summary {
  count: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

/** Summarises `xs` (undefined when empty). Percentiles are nearest-rank. */
export function summarize(xs: readonly number[]): Summary | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return {
    count: s.length,
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    p50: percentile(s, 50),
    p99: percentile(s, 99),
    max: s[s.length - 1],
  };
}

/** Several seeds' runs of one preset under one scenario, pooled. */
export interface Pooled {
  runs: number;
  crashes: number;
  suspectFirst?: Summary;
  deadFirst?: Summary;
  deadAll?: Summary;
  /** Crashes some live member never held dead by the end of the run. */
  undetected: number;
  joins: number;
  dissemination: { p50?: Summary; p99?: Summary; p100?: Summary; missed: number };
  nodeHours: number;
  falseDeaths: FalseCounts;
  falseSuspicions: FalseCounts;
  /** Per node-second, by message type, weighted by node-hours. */
  load: Map<string, { packets: number; bytes: number }>;
  pushPullBytes: number;
  bootMs: Summary;
  drainMs: Summary;
  unbooted: number;
}

function defined(xs: (number | undefined)[]): number[] {
  return xs.filter((x): x is number => x !== undefined);
}

function addFalse(into: FalseCounts, from: FalseCounts): void {
  for (const k of Object.keys(into.views) as Blame[]) {
    into.views[k] += from.views[k];
    into.episodes[k] += from.episodes[k];
  }
}

/** Pools the crash, join, false-positive and load figures of several runs. */
export function pool(runs: readonly RunResult[]): Pooled {
  const crashes: CrashSample[] = runs.flatMap((r) => r.crashes);
  const joins: JoinSample[] = runs.flatMap((r) => r.joins);
  const zero = () => ({ neither: 0, observer: 0, subject: 0, both: 0 });
  const falseDeaths = { episodes: zero(), views: zero() };
  const falseSuspicions = { episodes: zero(), views: zero() };
  const load = new Map<string, { packets: number; bytes: number }>();
  let nodeHours = 0;
  let pushPull = 0;
  for (const r of runs) {
    addFalse(falseDeaths, r.falseDeaths);
    addFalse(falseSuspicions, r.falseSuspicions);
    nodeHours += r.nodeHours;
    pushPull += r.pushPullBytes * r.nodeHours;
    for (const [kind, t] of r.load) {
      const l = load.get(kind) ?? { packets: 0, bytes: 0 };
      l.packets += t.packets * r.nodeHours;
      l.bytes += t.bytes * r.nodeHours;
      load.set(kind, l);
    }
  }
  for (const l of load.values()) {
    l.packets /= nodeHours;
    l.bytes /= nodeHours;
  }
  return {
    runs: runs.length,
    crashes: crashes.length,
    suspectFirst: summarize(defined(crashes.map((c) => c.suspectFirst))),
    deadFirst: summarize(defined(crashes.map((c) => c.deadFirst))),
    deadAll: summarize(defined(crashes.map((c) => c.deadAll))),
    undetected: crashes.filter((c) => c.deadAll === undefined).length,
    joins: joins.length,
    dissemination: {
      p50: summarize(defined(joins.map((j) => j.p50))),
      p99: summarize(defined(joins.map((j) => j.p99))),
      p100: summarize(defined(joins.map((j) => j.p100))),
      missed: joins.filter((j) => j.p100 === undefined).length,
    },
    nodeHours,
    falseDeaths,
    falseSuspicions,
    load,
    pushPullBytes: pushPull / nodeHours,
    bootMs: summarize(runs.map((r) => r.bootMs))!,
    drainMs: summarize(runs.map((r) => r.drainMs))!,
    unbooted: runs.filter((r) => !r.booted).length,
  };
}
