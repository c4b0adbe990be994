import { basename, dirname, resolve } from "node:path";
import { type Config, ConfigError, loadConfigFile } from "../config/mod.ts";
import type { Clock, Logger, Timer } from "../core/mod.ts";
import type { Counter, Gauge } from "../telemetry/mod.ts";
import type { ReloadOutcome, Runnable } from "./lifecycle.ts";

/** What asked for a reload: the file watch, SIGHUP, or `POST /reload`. */
export type ReloadTrigger = "watch" | "signal" | "admin";

/** What one `reloadNow` did, beyond the target's own outcome. */
export interface ReloadReport extends ReloadOutcome {
  /**
   * `ok`: the new version is active; `unchanged`: the file validates to the active config,
   * nothing was done; `invalid`: the file did not validate (the running config stays);
   * `refused`: the target refused the version (the running config stays).
   */
  result: "ok" | "unchanged" | "invalid" | "refused";
}

/** The file system watch `ConfigReloader.watch` uses (`Deno.watchFs` by default). */
export type WatchFs = (dir: string) => AsyncIterable<Deno.FsEvent> & { close(): void };

/** What a `ConfigReloader` needs. */
export interface ConfigReloaderDeps {
  /** The config file skiff was started with. */
  file: string;
  /** Who applies a new config; its `config` is taken as the active one at construction. */
  target: Pick<Runnable, "reload" | "registry" | "config">;
  log: Logger;
  clock: Clock;
  /** Reads and validates the file (`loadConfigFile` by default). */
  load?: (file: string) => Promise<Config>;
  /** Watches a directory (`Deno.watchFs` by default). */
  watchFs?: WatchFs;
  /** Quiet time after the last file event before reloading. Default 200 ms. */
  debounceMs?: number;
  /** Wait before watching again after the watch failed. Default 1 s. */
  rewatchMs?: number;
}

/**
 * Reloads skiff's config file on request (SIGHUP, `POST /reload`) and, with `watch()`, when
 * the file changes. One reload runs at a time: a request during one is served by a single
 * reload right after it. A file that validates to the active config changes nothing; a file
 * that does not validate is reported (every problem at its file:line:column, with its fix)
 * and the running config stays.
 *
 * Metrics in the target's registry: `skiff_config_reloads_total{result}` (ok, invalid,
 * refused), `skiff_config_reload_failures_total`, `skiff_config_version` and
 * `skiff_config_last_reload_success_timestamp_seconds` (the start counts as a success).
 *
 * @example
 * ```ts
 * const reloader = new ConfigReloader({ file: "skiff.yaml", target: sidecar, log, clock });
 * Deno.addSignalListener("SIGHUP", () => void reloader.reloadNow("signal"));
 * if (sidecar.config.reload.watch) reloader.watch();
 * ```
 */
export class ConfigReloader {
  readonly #d: ConfigReloaderDeps;
  readonly #load: (file: string) => Promise<Config>;
  readonly #reloads: Record<"ok" | "invalid" | "refused", Counter>;
  readonly #failures: Counter;
  readonly #versionGauge: Gauge;
  readonly #lastSuccess: Gauge;
  /**
   * The active config, as canonical JSON, to recognise a file that changes nothing; undefined
   * when what runs matches no file (a listener of the last version could not be bound).
   */
  #active: string | undefined;
  #version = 1;
  #running: Promise<ReloadReport> | undefined;
  #queued: Promise<ReloadReport> | undefined;
  #debounce: Timer | undefined;
  #watcher: { close(): void } | undefined;
  #watching = false;
  #closed = false;

  /** Registers the metrics; reloads nothing until asked. */
  constructor(deps: ConfigReloaderDeps) {
    this.#d = deps;
    this.#load = deps.load ?? loadConfigFile;
    this.#active = canonical(deps.target.config);
    const registry = deps.target.registry;
    const reloads = registry.counter(
      "skiff_config_reloads",
      "Config reloads by result: ok, invalid (the file did not validate), refused (not applied).",
      ["result"] as const,
    );
    this.#reloads = {
      ok: reloads.labels("ok"),
      invalid: reloads.labels("invalid"),
      refused: reloads.labels("refused"),
    };
    this.#failures = registry.counter(
      "skiff_config_reload_failures",
      "Config reloads that left the running config in place (invalid or refused).",
    ).labels();
    this.#versionGauge = registry.gauge(
      "skiff_config_version",
      "The active config version (1 for the config skiff started with).",
    ).labels();
    this.#lastSuccess = registry.gauge(
      "skiff_config_last_reload_success_timestamp_seconds",
      "When the active config was applied (Unix seconds; the start counts).",
    ).labels();
    this.#versionGauge.set(this.#version);
    this.#lastSuccess.set(deps.clock.now() / 1000);
  }

  /** The active config version as this reloader last saw it. */
  get version(): number {
    return this.#version;
  }

  /**
   * Reads and validates the file and, when it differs from the active config, applies it.
   * Never rejects: what went wrong is logged, counted and reported.
   *
   * @param trigger what asked for it (logged)
   * @returns what happened; a call made while a reload runs resolves with the one reload
   *   that follows it
   */
  reloadNow(trigger: ReloadTrigger): Promise<ReloadReport> {
    if (this.#queued) return this.#queued;
    if (this.#running) {
      this.#queued = this.#running.then(() => {
        this.#queued = undefined;
        return this.#begin(trigger);
      });
      return this.#queued;
    }
    return this.#begin(trigger);
  }

  /**
   * Follows the file: any change in its directory that concerns it (the file itself, or the
   * `..data` symlink a Kubernetes ConfigMap volume swaps) reloads it once things are quiet
   * for the debounce time. Watching the directory, not the file, survives editors that
   * replace the file by a rename. Idempotent; `close()` stops it.
   */
  watch(): void {
    if (this.#watching || this.#closed) return;
    this.#watching = true;
    void this.#watchLoop();
  }

  /** Stops watching and cancels a pending debounced reload; a running reload completes. */
  close(): void {
    this.#closed = true;
    this.#debounce?.cancel();
    this.#debounce = undefined;
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  #begin(trigger: ReloadTrigger): Promise<ReloadReport> {
    const run: Promise<ReloadReport> = this.#attempt(trigger).finally(() => {
      if (this.#running === run) this.#running = undefined;
    });
    this.#running = run;
    return run;
  }

  async #attempt(trigger: ReloadTrigger): Promise<ReloadReport> {
    const { file, log } = this.#d;
    let config: Config;
    try {
      config = await this.#load(file);
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      if (err instanceof ConfigError) {
        log.error("config reload failed: the file is not valid; the running config stays", {
          trigger,
          file,
          version: this.#version,
          problems: err.issues.length,
          error,
        });
      } else {
        log.error("config reload failed: cannot load the file (bug)", { trigger, file, err });
      }
      this.#reloads.invalid.inc();
      this.#failures.inc();
      return { result: "invalid", ok: false, version: this.#version, error };
    }
    const text = canonical(config);
    if (text === this.#active) {
      log.info("config reload: the file validates to the active config; nothing to do", {
        trigger,
        file,
        version: this.#version,
      });
      return { result: "unchanged", ok: true, version: this.#version };
    }
    let outcome: ReloadOutcome;
    try {
      outcome = await this.#d.target.reload(config);
    } catch (err) {
      // `reload` promises never to throw; if it does, the version was not applied.
      log.error("config reload failed: applying it threw (bug)", { trigger, file, err });
      outcome = { ok: false, version: this.#version, error: String(err) };
    }
    this.#version = outcome.version;
    this.#versionGauge.set(outcome.version);
    if (!outcome.ok) {
      log.error("config reload refused; the running config stays", { trigger, file, ...outcome });
      this.#reloads.refused.inc();
      this.#failures.inc();
      return { ...outcome, result: "refused" };
    }
    const failed = outcome.changes?.listeners.failed ?? [];
    // A listener that could not be bound is missing: what runs is neither this file nor the one
    // before, so any file is applied next (this one again binds the listener, the one before
    // brings its listener back).
    this.#active = failed.length === 0 ? text : undefined;
    this.#reloads.ok.inc();
    this.#lastSuccess.set(this.#d.clock.now() / 1000);
    log.info("config reloaded", {
      trigger,
      file,
      version: outcome.version,
      changes: outcome.changes,
    });
    if (failed.length > 0) {
      log.error("listeners of the new config could not be bound; reload again to retry", {
        listeners: failed,
        version: outcome.version,
      });
    }
    if (outcome.restartNeeded && outcome.restartNeeded.length > 0) {
      log.warn("config sections changed that apply only after a restart (--hot-restart)", {
        sections: outcome.restartNeeded,
        version: outcome.version,
      });
    }
    return { ...outcome, result: "ok" };
  }

  async #watchLoop(): Promise<void> {
    const { log, clock } = this.#d;
    const path = resolve(this.#d.file);
    const dir = dirname(path);
    const name = basename(path);
    const watchFs: WatchFs = this.#d.watchFs ?? ((d) => Deno.watchFs(d, { recursive: false }));
    let failedBefore = false;
    while (!this.#closed) {
      try {
        const watcher = watchFs(dir);
        this.#watcher = watcher;
        if (this.#closed) watcher.close();
        log.debug("watching the config file", { file: this.#d.file, dir });
        failedBefore = false;
        for await (const event of watcher) {
          if (event.paths.some((p) => concerns(basename(p), name))) this.#schedule();
        }
      } catch (err) {
        if (this.#closed) break;
        if (!failedBefore) {
          log.warn("cannot watch the config file; SIGHUP still reloads it, retrying", {
            dir,
            err,
          });
        }
        failedBefore = true;
      }
      this.#watcher = undefined;
      if (this.#closed) break;
      await clock.sleep(this.#d.rewatchMs ?? 1000);
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#debounce?.cancel();
    this.#debounce = this.#d.clock.setTimer(() => {
      this.#debounce = undefined;
      void this.reloadNow("watch");
    }, this.#d.debounceMs ?? 200);
  }
}

/**
 * True when a change to directory entry `entry` may change the config file `name`: the file
 * itself, or the `..data` symlinks and `..<timestamp>` folders of a Kubernetes ConfigMap
 * volume, where `name` is a symlink through `..data`.
 */
function concerns(entry: string, name: string): boolean {
  return entry === name || entry.startsWith("..");
}

/** A validated config as stable text: the schema fixes the key order. */
function canonical(config: Config): string {
  return JSON.stringify(config);
}
