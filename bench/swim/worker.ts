// Runs one benchmark run per message in a worker thread, so runs use every core. A run is
// deterministic on its own, so results do not depend on which worker ran it.
import {
  BASIC_SWIM,
  type GossipCodec,
  jsonCodec,
  MEMBERLIST_DEFAULTS,
  SKIFF_CONSERVATIVE,
  SKIFF_DEFAULTS,
  type SwimConfig,
} from "../../src/discovery/gossip/mod.ts";
import type { Clock } from "../../src/core/mod.ts";
import { protobufCodec } from "../../src/discovery/gossip/wire/mod.ts";
import { type RunResult, runScenario } from "./run_scenario.ts";
import { SCENARIOS } from "./scenarios.ts";

/** The parameter sets compared, in table order. */
export const PRESETS: Readonly<Record<string, Readonly<SwimConfig>>> = {
  "skiff": SKIFF_DEFAULTS,
  "skiff-conservative": SKIFF_CONSERVATIVE,
  "memberlist-default": MEMBERLIST_DEFAULTS,
  "basic SWIM": BASIC_SWIM,
};

/**
 * Codecs by name (`--codec`): `proto` is the wire format real nodes use (header, protobuf,
 * CRC32; plaintext here, nonces from a counter so that runs stay deterministic), `json` the
 * readable one.
 */
export const CODECS: Readonly<Record<string, (clock: Clock) => GossipCodec>> = {
  proto: (clock) => {
    let nonce = 0;
    return protobufCodec({
      cluster: "bench",
      clock,
      randomBytes: (b) => new DataView(b.buffer, b.byteOffset, b.length).setUint32(0, ++nonce),
    });
  },
  json: () => jsonCodec,
};

/** One run, as posted to a worker (plain data: names, not objects). */
export interface Job {
  id: number;
  n: number;
  seed: number;
  preset: string;
  scenario: string;
  codec: string;
  crashes: number;
  crashSpacingMs: number;
  joins: number;
  tailMs: number;
}

/** A worker's answer: the run's result (its load map as entries) and its wall time. */
export interface JobDone {
  id: number;
  result: Omit<RunResult, "load"> & { load: [string, { packets: number; bytes: number }][] };
  wallMs: number;
}

/** Runs `job` in this thread. */
export async function runJob(job: Job): Promise<JobDone> {
  const t0 = performance.now();
  const result = await runScenario({
    n: job.n,
    seed: job.seed,
    config: PRESETS[job.preset],
    codec: CODECS[job.codec],
    scenario: SCENARIOS.find((s) => s.id === job.scenario)!,
    crashes: job.crashes,
    crashSpacingMs: job.crashSpacingMs,
    joins: job.joins,
    tailMs: job.tailMs,
  });
  return {
    id: job.id,
    result: { ...result, load: [...result.load] },
    wallMs: performance.now() - t0, // reported as the bench's cost only, never as a metric
  };
}

// deno-lint-ignore no-explicit-any -- the worker global scope is not in Deno's default lib
const self = globalThis as any;
if (typeof self.WorkerGlobalScope !== "undefined") {
  self.onmessage = async (e: MessageEvent<Job>) => self.postMessage(await runJob(e.data));
}
