import type { Config } from "../config/schema.ts";
import type { MetricsRegistry } from "../telemetry/mod.ts";
import type { ReloadOutcome } from "../control/lifecycle.ts";

export type { LifecycleHooks, ReloadOutcome } from "../control/lifecycle.ts";

/**
 * What the command line and the admin API do to a running skiff (the sidecar or a node of
 * Workers): reload a config, drain, stop.
 */
export interface Runnable {
  readonly registry: MetricsRegistry;
  /** The active config. */
  readonly config: Config;
  /** True once every listener is bound and the first config is active, until a drain starts. */
  readonly ready: boolean;
  /**
   * Binds everything and serves `config`.
   *
   * @param opts.deferAdmin leave the admin port unbound (a hot restart binds it with
   *   `bindAdmin` once the old process let it go)
   * @throws (as a rejection) when a listener or the admin port cannot be bound
   */
  start(opts?: { deferAdmin?: boolean }): Promise<void>;
  /**
   * Binds the admin port after `start({ deferAdmin: true })`.
   *
   * @throws (as a rejection) `Deno.errors.AddrInUse` while another process holds it
   */
  bindAdmin(): Promise<void>;
  /** Applies a validated config as the new version; never throws (see `ReloadOutcome`). */
  reload(config: Config): Promise<ReloadOutcome>;
  /**
   * Stops accepting, lets in-flight work finish for up to `drain.timeout`, then closes
   * everything; resolves once closed. Idempotent (a second call returns the same promise).
   */
  drain(reason: string): Promise<void>;
  /** Closes everything at once. */
  stop(): Promise<void>;
}
