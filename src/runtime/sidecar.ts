import type { Config } from "../config/schema.ts";
import { formatAddress } from "../config/address.ts";
import { type Clock, type Logger, type Rng, Serial } from "../core/mod.ts";
import { AdminServer } from "../control/admin.ts";
import {
  type AccessLogSink,
  checkAccessLogFile,
  createAccessLog,
  MetricsRegistry,
  registerProcessMetrics,
} from "../telemetry/mod.ts";
import type { SvidSource } from "../security/svid_source.ts";
import type { DrainOptions, LifecycleHooks, ReloadOutcome } from "../control/lifecycle.ts";
import type { MembersView } from "../discovery/member_view.ts";
import { DataPlane } from "./data_plane.ts";
import type { ListenFn } from "../dataplane/listener.ts";
import { meshFor, openIdentity, secureFor } from "./identity.ts";
import type { Membership, MembershipDeps } from "./membership.ts";
import { GossipResolvers, startGossip } from "./start_membership.ts";
import type { Runnable, StartOptions } from "./lifecycle.ts";
import { reloadFailure, restartNeeded, withRestartSections } from "./reload_sections.ts";

/** What the sidecar needs from the composition root. */
export interface SidecarDeps {
  clock: Clock;
  rng: Rng;
  log: Logger;
  /** Bind listeners with SO_REUSEPORT. */
  reusePort?: boolean;
  /** Binds listening sockets; `Deno.listen` when absent (tests inject bind failures). */
  listen?: ListenFn;
  /** Host facts and event sink for gossip membership (when the config has a gossip section). */
  membership?: Pick<MembershipDeps, "host" | "onEvent">;
  /** What `POST /reload` and `POST /drain` on the admin API do. */
  hooks?: LifecycleHooks;
}

/**
 * skiff with `workers: 0`: one data plane in the main isolate, with its metrics, access log
 * and admin server. `start` binds everything or throws (binding nothing half-way); `stop`
 * closes it all.
 */
export class Sidecar implements Runnable {
  readonly registry = new MetricsRegistry();
  readonly dataPlane: DataPlane;
  admin: AdminServer | undefined;
  readonly #deps: SidecarDeps;
  readonly #accessLog: AccessLogSink;
  #ready = false;
  #config: Config;
  #version = 1;
  readonly #reloads = new Serial();
  #draining: Promise<void> | undefined;
  #handingOver: Promise<void> | undefined;
  /** The gossip-discovered clusters' resolvers (seeded at a hot restart). */
  readonly #gossip: GossipResolvers;
  /** The replaced process's `/members`, when this one was started by a hot restart. */
  #predecessor: MembersView | undefined;

  constructor(config: Config, deps: SidecarDeps) {
    this.#config = config;
    this.#deps = deps;
    this.#gossip = new GossipResolvers(config);
    this.#accessLog = createAccessLog(config.access_log, {
      clock: deps.clock,
      logger: deps.log,
      registry: this.registry,
    });
    this.dataPlane = new DataPlane(config, {
      ...deps,
      registry: this.registry,
      accessLog: this.#accessLog,
      resolver: (c) => this.#gossip.resolver(c),
    });
  }

  /** Gossip membership, once started (when the config has a gossip section). */
  membership: Membership | undefined;
  /** The workload's SVID, once loaded (when the config has an identity section). */
  identity: SvidSource | undefined;

  /** The running clusters by name. */
  get clusters(): DataPlane["clusters"] {
    return this.dataPlane.clusters;
  }

  /** The bound listeners. */
  get listeners(): DataPlane["listeners"] {
    return this.dataPlane.listeners;
  }

  /** The effective config: the last one applied (sections that need a restart as started). */
  get config(): Config {
    return this.#config;
  }

  /** True once every listener is bound and the first config is active, until a drain starts. */
  get ready(): boolean {
    return this.#ready;
  }

  /**
   * Builds and binds everything.
   *
   * @param opts.deferAdmin bind the admin port (and start gossip, whose port the process
   *   being replaced holds too) only in `bindAdmin`
   * @param opts.members the replaced process's `/members`: gossip-discovered clusters start
   *   with its endpoints
   * @throws when a listener or the admin port cannot be bound (as a rejection)
   */
  async start(opts: StartOptions = {}): Promise<void> {
    const d = this.#deps;
    if (opts.members && this.config.gossip) {
      this.#predecessor = opts.members;
      this.#gossip.seed(opts.members);
    }
    registerProcessMetrics(this.registry, d.clock);
    this.dataPlane.stats.watchClusters(this.registry, () => this.dataPlane.views());
    try {
      await checkAccessLogFile(this.config.access_log);
      this.identity = await openIdentity(this.config, { ...d, registry: this.registry });
      const mesh = await meshFor(this.config, this.identity);
      const secure = await secureFor(this.config, this.identity, {
        registry: this.registry,
        log: d.log,
        reusePort: d.reusePort,
      });
      if (!opts.deferAdmin) await this.#startMembership();
      await this.dataPlane.start({ mesh, secure });
      if (!opts.deferAdmin) this.#startAdmin();
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.#ready = true;
  }

  /**
   * Starts gossip, then binds the admin port, after `start({ deferAdmin: true })`; a call
   * after a failure binds what is still missing.
   *
   * @param opts.members the replaced process's latest `/members` (for its incarnation)
   */
  async bindAdmin(opts: { members?: MembersView } = {}): Promise<void> {
    if (this.admin) return;
    if (!this.membership && this.config.gossip) {
      await this.#startMembership(opts.members ?? this.#predecessor);
    }
    this.#startAdmin();
  }

  /**
   * Applies `config` as the next version (one reload at a time). Sections that cannot change
   * while running (admin, gossip, identity, workers, access log) keep their running values
   * and are named in `restartNeeded`.
   */
  reload(config: Config): Promise<ReloadOutcome> {
    return this.#reloads.run(() => this.#reload(config));
  }

  async #reload(config: Config): Promise<ReloadOutcome> {
    const restart = restartNeeded(this.#config, config);
    const effective = withRestartSections(config, this.#config);
    try {
      const changes = await this.dataPlane.apply(effective);
      this.#config = effective;
      this.#version++;
      const { shadow, ...rest } = changes;
      return { ok: true, version: this.#version, changes: rest, restartNeeded: restart, shadow };
    } catch (err) {
      return reloadFailure(err, this.#version, restart);
    }
  }

  /**
   * Graceful drain: not ready any more, gossip left (stopped silently for a handover),
   * listeners closed, in-flight work given `drain.timeout` to finish; then everything is
   * closed. Idempotent.
   */
  drain(reason: string, opts: DrainOptions = {}): Promise<void> {
    this.#draining ??= (async () => {
      this.#ready = false;
      this.#deps.log.info("draining", { reason, timeout_ms: this.#config.drain.timeout });
      if (opts.handover) await this.handOver();
      else await this.membership?.stop();
      await this.dataPlane.drain(this.#config.drain.timeout);
      await this.stop();
      this.#deps.log.info("drained", { reason });
    })();
    return this.#draining;
  }

  /** Stops gossip without a leave, for a hot-restarting successor (see `Runnable.handOver`). */
  handOver(): Promise<void> {
    return this.#handingOver ??= this.membership?.stop({ leave: false }) ?? Promise.resolve();
  }

  /** Closes listeners, the admin server, pools and the access log. */
  async stop(): Promise<void> {
    this.#ready = false;
    this.#gossip.close();
    await this.membership?.stop();
    await this.dataPlane.stop();
    await this.admin?.close();
    await this.#accessLog.close();
    this.identity?.close();
  }

  async #startMembership(predecessor?: MembersView): Promise<void> {
    const d = this.#deps;
    this.membership = await startGossip(
      this.config,
      {
        clock: d.clock,
        rng: d.rng,
        log: d.log,
        registry: this.registry,
        membership: d.membership,
        spiffeId: this.identity?.current().id.toString(),
      },
      this.#gossip,
      predecessor,
    );
  }

  #startAdmin(): void {
    this.admin = startAdmin(this.config, {
      config: () => this.config,
      clusters: () => this.dataPlane.views(),
      members: this.membership && (() => this.membership!.view()),
      registry: this.registry,
      ready: () => this.#ready,
      hooks: this.#deps.hooks,
      configDiff: () => this.dataPlane.shadowReport,
    }, this.#deps.log);
  }
}

/** Starts the admin server when the config has one, and logs where it listens. */
export function startAdmin(
  config: Config,
  src: ConstructorParameters<typeof AdminServer>[1],
  log: Logger,
): AdminServer | undefined {
  if (!config.admin) return undefined;
  const admin = new AdminServer(config.admin.address, src, log);
  log.info("admin bound", { address: formatAddress(admin.addr) });
  return admin;
}
