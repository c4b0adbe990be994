import type { Config } from "../config/schema.ts";
import type { MembersView } from "../discovery/member_view.ts";
import type { MetricsRegistry } from "../telemetry/mod.ts";
import type { DrainOptions, ReloadOutcome } from "../control/lifecycle.ts";

export type { DrainOptions, LifecycleHooks, ReloadOutcome } from "../control/lifecycle.ts";

/** How a hot restart starts the new process (see `Runnable.start`). */
export interface StartOptions {
  /**
   * Leave the admin port unbound, and gossip unstarted: the process being replaced holds
   * both until it hands over; `bindAdmin` binds them then.
   */
  deferAdmin?: boolean;
  /**
   * The replaced process's `/members`: gossip-discovered clusters serve the endpoints it knew
   * until this process's membership has joined, and membership starts one incarnation above
   * it (see `startMembership`).
   */
  members?: MembersView;
}

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
   * @param opts what a hot restart asks for (see `StartOptions`)
   * @throws (as a rejection) when a listener or the admin port cannot be bound
   */
  start(opts?: StartOptions): Promise<void>;
  /**
   * Starts gossip membership (when configured), then binds the admin port, after
   * `start({ deferAdmin: true })`. Safe to call again after a failure: what is bound stays.
   *
   * @param opts.members the replaced process's latest `/members` (its incarnation may have
   *   grown since `start`); the one given to `start` otherwise
   * @throws (as a rejection) `Deno.errors.AddrInUse` while another process holds either port
   */
  bindAdmin(opts?: { members?: MembersView }): Promise<void>;
  /** Applies a validated config as the new version; never throws (see `ReloadOutcome`). */
  reload(config: Config): Promise<ReloadOutcome>;
  /**
   * Stops accepting, lets in-flight work finish for up to `drain.timeout`, then closes
   * everything; resolves once closed. Idempotent (a second call returns the same promise).
   * Gossip announces a graceful leave first, unless `opts.handover`: then it stops silently
   * (`handOver`), since a successor continues the member.
   */
  drain(reason: string, opts?: DrainOptions): Promise<void>;
  /**
   * The first step of a hot-restart handover: stops gossip without announcing a leave, so
   * that its port is free for the successor while peers keep the member alive (the successor
   * rejoins as it, one incarnation up). Keeps serving otherwise. Idempotent; resolves once
   * the gossip port is released.
   */
  handOver(): Promise<void>;
  /** Closes everything at once. */
  stop(): Promise<void>;
}
