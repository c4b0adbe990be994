/**
 * A long run without crashes, to bound the false-death rate: one preset, one scenario, `--hours`
 * of virtual time after the boot, and the false deaths and suspicions it saw, split by whether
 * the observer or the subject stalled. Deterministic for its flags.
 *
 * ```
 * deno run --allow-read --allow-env bench/swim/soak.ts --n 100 --hours 10 --scenario loss5
 * ```
 *
 * Flags: `--n 100`, `--hours 1`, `--scenario loss5`, `--preset skiff`, `--seed 1`.
 * @module
 */
import { runScenario } from "./run_scenario.ts";
import { SCENARIOS } from "./scenarios.ts";
import { CODECS, PRESETS } from "./worker.ts";

if (import.meta.main) {
  const flags = new Map<string, string>();
  for (let i = 0; i < Deno.args.length; i += 2) flags.set(Deno.args[i], Deno.args[i + 1]);
  const n = Number(flags.get("--n") ?? 100);
  const hours = Number(flags.get("--hours") ?? 1);
  const preset = flags.get("--preset") ?? "skiff";
  const scenario = SCENARIOS.find((s) => s.id === (flags.get("--scenario") ?? "loss5"));
  if (!scenario || !(preset in PRESETS)) {
    throw new TypeError(`Unknown scenario or preset: see the header of bench/swim/soak.ts`);
  }
  const r = await runScenario({
    n,
    seed: Number(flags.get("--seed") ?? 1),
    config: PRESETS[preset],
    codec: CODECS.proto,
    scenario,
    crashes: 0,
    crashSpacingMs: 0,
    joins: 0,
    tailMs: hours * 3_600_000,
  });
  const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
  console.log(
    `soak: n=${n} ${scenario.id} ${preset}, ${r.nodeHours.toFixed(0)} node-hours: ` +
      `false deaths ${total(r.falseDeaths.episodes)} ${JSON.stringify(r.falseDeaths.episodes)}, ` +
      `false suspicions ${total(r.falseSuspicions.episodes)} ` +
      `${JSON.stringify(r.falseSuspicions.episodes)}; 95 % upper bound on a zero: ` +
      `${(3 / r.nodeHours).toPrecision(2)} per node-hour`,
  );
}
