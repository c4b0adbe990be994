import type { Config } from "../config/schema.ts";
import { Serial } from "../core/mod.ts";
import type { ReloadOutcome } from "./lifecycle.ts";
import { reloadFailure, restartNeeded, withRestartSections } from "./reload_sections.ts";
import type { WorkerPool, WorkerPoolDeps } from "./_worker_pool.ts";
import { awaitWorker, type Slot } from "./_worker_slot.ts";
import { Rec } from "./worker_protocol.ts";

const encoder = new TextEncoder();

/** What the fan-out needs from the composition root. */
type ConfigFanoutDeps = Pick<WorkerPoolDeps, "clock" | "log" | "startTimeoutMs">;

/**
 * The config a node's Workers serve, and its reloads, one at a time: a reload goes to every
 * Worker as the next config version; when one cannot apply it, the Workers that did go back
 * to the running config.
 */
export class ConfigFanout {
  readonly #pool: WorkerPool;
  readonly #slots: readonly Slot[];
  readonly #deps: ConfigFanoutDeps;
  readonly #reloads = new Serial();
  #config: Config;
  /** 1 for the first config, +1 per applied reload (Worker versions also count rollbacks). */
  #appliedVersions = 1;
  #version = 0;

  /**
   * @param config the config the Workers start on
   * @param pool the Workers
   */
  constructor(config: Config, pool: WorkerPool, deps: ConfigFanoutDeps) {
    this.#config = config;
    this.#pool = pool;
    this.#slots = pool.slots;
    this.#deps = deps;
  }

  /** The effective config: the last one applied. */
  get config(): Config {
    return this.#config;
  }

  /** The config version the Workers are to serve (0 until they start). */
  get version(): number {
    return this.#version;
  }

  /** The Workers are starting: they serve the config as version 1. */
  starting(): void {
    this.#version = 1;
  }

  /** Applies `config` to every Worker after any reload still running (see `WorkerNode`). */
  reload(config: Config): Promise<ReloadOutcome> {
    return this.#reloads.run(() => this.#reload(config));
  }

  /** Brings the Workers behind up to date, after any reload still running. */
  converge(): void {
    void this.#reloads.run(() => this.#converge());
  }

  /** Resolves once no reload is running. */
  idle(): Promise<void> {
    return this.#reloads.run(() => Promise.resolve());
  }

  async #reload(config: Config): Promise<ReloadOutcome> {
    const restart = restartNeeded(this.#config, config);
    const effective = withRestartSections(config, this.#config);
    if (!this.#pool.running || this.#pool.draining) {
      return reloadFailure(new Error("skiff is not running"), this.#version, restart);
    }
    const previous = this.#config;
    const version = this.#version + 1;
    const outcomes = await this.#sendConfig(version, effective);
    const failed = outcomes.filter((o) => o !== null);
    if (failed.length === 0) {
      this.#config = effective;
      this.#version = version;
      // A Worker launched (replaced) while the reload ran started on the config before it.
      await this.#converge();
      return { ok: true, version: ++this.#appliedVersions, restartNeeded: restart };
    }
    if (this.#pool.draining) {
      return reloadFailure(new Error(failed[0]!), this.#appliedVersions, restart);
    }
    // Some Workers serve the new version already: back to the running one for them (without
    // a shadow check: its report would hide the one that refused the version).
    this.#version = version + 1;
    const took = this.#slots.filter((_, i) => outcomes[i] === null);
    const back = await this.#sendConfig(this.#version, previous, took, false);
    for (const err of back) {
      if (err) this.#deps.log.error("a worker did not return to the running config", { err });
    }
    await this.#converge();
    return reloadFailure(new Error(failed[0]!), this.#appliedVersions, restart);
  }

  /** Sends the current config to every live Worker that serves another version. */
  async #converge(): Promise<void> {
    const behind = this.#slots.filter((s) =>
      s.worker && !s.replacing && s.serving !== 0 && s.serving !== this.#version
    );
    if (behind.length === 0) return;
    const outcomes = await this.#sendConfig(this.#version, this.#config, behind, false);
    for (const err of outcomes) {
      if (err) this.#deps.log.error("a worker did not take the running config", { err });
    }
  }

  /**
   * Pushes a config version to the live Workers of `slots`; resolves with each one's outcome.
   * `shadow: false` skips the Workers' shadow check (a return to the running config).
   */
  #sendConfig(
    version: number,
    config: Config,
    slots = this.#slots,
    shadow = true,
  ): Promise<(string | null)[]> {
    const body = encoder.encode(JSON.stringify({ version, config, shadow }));
    return Promise.all(slots.map((slot) => {
      if (!slot.worker || slot.replacing) return Promise.resolve(null); // gets it at launch
      const outcome = awaitWorker(
        slot,
        "config",
        this.#deps.startTimeoutMs ?? 15_000,
        this.#deps.clock,
      );
      let pushed = false;
      try {
        pushed = slot.toWorker.push(Rec.config, body, slot.generation);
      } catch { /* larger than a record can be */ }
      if (!pushed) slot.waiter?.settle(`The config does not fit the ring to Worker ${slot.index}`);
      return outcome;
    }));
  }
}
