/**
 * The SWIM simulation benchmark of issue 4: the real membership protocol (`SwimNode`) on the
 * seeded network simulator, for the skiff, skiff-conservative, memberlist-default and
 * basic-SWIM presets side by side, under loss 0/1/5 %, bursty loss, log-normal jitter and 1 % stalling nodes. Each run
 * boots a cluster (unmeasured), crashes members one at a time and adds fresh ones, and reads
 * detection times, false positives, dissemination and load from the members' event streams,
 * on virtual time only. Prints one set of Markdown tables per size and scenario.
 *
 * ```
 * deno task bench:swim                      # N = 100 (all scenarios, 3 seeds) + N = 1000 (loss 5 %, 1 seed, 6 crashes)
 * deno task bench:swim --quick              # N = 100, 1 seed
 * deno task bench:swim --n 1000 --big-scenarios all --big-seeds 2
 * ```
 *
 * Flags: `--n 100,1000`, `--seeds 3` (N < 1000), `--big-seeds 1` (N ≥ 1000), `--big-crashes 6`
 * (N ≥ 1000; 8 below), `--scenarios all` and `--big-scenarios loss5` (comma-separated ids: loss0
 * loss1 loss5 bursty jitter stall), `--presets` (comma-separated names, default all),
 * `--jobs 2` (worker threads; results do not depend on it), `--codec proto|json`, `--quick`.
 * @module
 */
import { pool, type Pooled } from "./swim/stats.ts";
import { scenarioTables } from "./swim/report.ts";
import { CODECS, type Job, type JobDone, PRESETS } from "./swim/worker.ts";
import { SCENARIOS } from "./swim/scenarios.ts";
import type { RunResult } from "./swim/run_scenario.ts";

/** The bench's command-line options. */
export interface BenchOptions {
  sizes: number[];
  seeds: number;
  bigSeeds: number;
  bigCrashes: number;
  scenarios: string[];
  bigScenarios: string[];
  jobs: number;
  codec: string;
  presets: string[];
}

const BIG = 1000;

/**
 * Reads the flags (see the module doc).
 *
 * @throws {TypeError} for an unknown flag, scenario, preset or codec
 */
export function parseArgs(args: readonly string[]): BenchOptions {
  const o: BenchOptions = {
    sizes: [100, 1000],
    seeds: 3,
    bigSeeds: 1,
    bigCrashes: 6,
    scenarios: SCENARIOS.map((s) => s.id),
    bigScenarios: ["loss5"],
    jobs: 2,
    codec: "proto",
    presets: Object.keys(PRESETS),
  };
  const ids = (v: string) => {
    const list = v === "all" ? SCENARIOS.map((s) => s.id) : v.split(",");
    for (const id of list) {
      if (!SCENARIOS.some((s) => s.id === id)) {
        throw new TypeError(
          `Unknown scenario "${id}": use one of ${SCENARIOS.map((s) => s.id).join(", ")} or all`,
        );
      }
    }
    return list;
  };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new TypeError(`Flag "${flag}" needs a value`);
      return v;
    };
    if (flag === "--quick") {
      o.sizes = [100];
      o.seeds = 1;
    } else if (flag === "--n") o.sizes = value().split(",").map(Number);
    else if (flag === "--seeds") o.seeds = Number(value());
    else if (flag === "--big-seeds") o.bigSeeds = Number(value());
    else if (flag === "--big-crashes") o.bigCrashes = Number(value());
    else if (flag === "--presets") o.presets = presetNames(value());
    else if (flag === "--scenarios") o.scenarios = ids(value());
    else if (flag === "--big-scenarios") o.bigScenarios = ids(value());
    else if (flag === "--jobs") o.jobs = Math.max(1, Number(value()));
    else if (flag === "--codec") o.codec = value();
    else throw new TypeError(`Unknown flag "${flag}": see the header of bench/swim_bench.ts`);
  }
  if (!(o.codec in CODECS)) {
    throw new TypeError(`Unknown codec "${o.codec}": use one of ${Object.keys(CODECS).join(", ")}`);
  }
  return o;
}

function presetNames(v: string): string[] {
  const list = v.split(",");
  for (const name of list) {
    if (!(name in PRESETS)) {
      throw new TypeError(
        `Unknown preset "${name}": use one of ${Object.keys(PRESETS).join(", ")}`,
      );
    }
  }
  return list;
}

/** Every run the options ask for, the largest first (so the worker pool ends evenly). */
export function plan(o: BenchOptions): Job[] {
  const jobs: Job[] = [];
  for (const n of [...o.sizes].sort((a, b) => b - a)) {
    const big = n >= BIG;
    for (const scenario of big ? o.bigScenarios : o.scenarios) {
      for (let seed = 1; seed <= (big ? o.bigSeeds : o.seeds); seed++) {
        for (const preset of o.presets) {
          jobs.push({
            id: jobs.length,
            n,
            seed,
            preset,
            scenario,
            codec: o.codec,
            crashes: big ? o.bigCrashes : 8,
            crashSpacingMs: 15_000,
            joins: big ? 2 : 3,
            tailMs: big ? 30_000 : 60_000,
          });
        }
      }
    }
  }
  return jobs;
}

/** Runs `jobs` on `workers` worker threads; answers come back in job order. */
export async function runAll(jobs: readonly Job[], workers: number): Promise<JobDone[]> {
  const done: JobDone[] = new Array(jobs.length);
  let next = 0;
  const url = new URL("./swim/worker.ts", import.meta.url);
  await Promise.all(
    Array.from({ length: Math.min(workers, jobs.length) }, async () => {
      const w = new Worker(url, { type: "module" });
      try {
        while (next < jobs.length) {
          const job = jobs[next++];
          const answer = new Promise<JobDone>((resolve, reject) => {
            w.onmessage = (e: MessageEvent<JobDone>) => resolve(e.data);
            w.onerror = (e) => {
              e.preventDefault();
              reject(new Error(`Run ${JSON.stringify(job)} failed: ${e.message}`));
            };
          });
          w.postMessage(job);
          done[job.id] = await answer;
          const d = done[job.id];
          console.error(
            `  n=${job.n} ${job.scenario} seed ${job.seed} ${job.preset}: ` +
              `${(d.wallMs / 1000).toFixed(1)} s wall, ${d.result.simEvents} events`,
          );
        }
      } finally {
        w.terminate();
      }
    }),
  );
  return done;
}

if (import.meta.main) {
  const o = parseArgs(Deno.args);
  const jobs = plan(o);
  console.error(`swim bench: ${jobs.length} runs on ${o.jobs} worker(s)`);
  const t0 = performance.now();
  const done = await runAll(jobs, o.jobs);
  const wall = (performance.now() - t0) / 1000;
  const out: string[] = [];
  for (const n of o.sizes) {
    const big = n >= BIG;
    const wallN = done.filter((d) => jobs[d.id].n === n).reduce((a, d) => a + d.wallMs, 0);
    out.push(`## N = ${n}`, "");
    out.push(
      `Codec ${o.codec}; ${(wallN / 1000).toFixed(0)} s of run time (summed over workers).`,
      "",
    );
    for (const id of big ? o.bigScenarios : o.scenarios) {
      const byPreset = new Map<string, Pooled>();
      for (const preset of o.presets) {
        const runs: RunResult[] = done
          .filter((d) => {
            const j = jobs[d.id];
            return j.n === n && j.scenario === id && j.preset === preset;
          })
          .map((d) => ({ ...d.result, load: new Map(d.result.load) }));
        byPreset.set(preset, pool(runs));
      }
      const sc = SCENARIOS.find((s) => s.id === id)!;
      const p = [...byPreset.values()][0];
      out.push(
        scenarioTables(
          `N = ${n}, ${sc.title}`,
          byPreset,
        ),
        `Boot (unmeasured): converged after ${(p.bootMs.mean / 1000).toFixed(0)} s, join gossip ` +
          `drained ${
            (p.drainMs.mean / 1000).toFixed(0)
          } s later (${p.unbooted} runs never converged).`,
        "",
      );
    }
  }
  console.log(out.join("\n"));
  console.error(`swim bench: done in ${wall.toFixed(0)} s wall`);
}
