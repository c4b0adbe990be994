import type { Config } from "../config/schema.ts";
import type { Clock, Logger, Rng } from "../core/mod.ts";
import { AdminServer } from "../control/admin.ts";
import {
  type AccessLogSink,
  createAccessLog,
  MetricsRegistry,
  registerProcessMetrics,
} from "../telemetry/mod.ts";
import type { SvidSource } from "../security/svid_source.ts";
import { DataPlane } from "./data_plane.ts";
import { meshFor, openIdentity, secureFor } from "./identity.ts";
import type { Membership, MembershipDeps } from "./membership.ts";
import { gossipResolver, startMembership } from "./start_membership.ts";

/** What the sidecar needs from the composition root. */
export interface SidecarDeps {
  clock: Clock;
  rng: Rng;
  log: Logger;
  /** Bind listeners with SO_REUSEPORT. */
  reusePort?: boolean;
  /** Host facts and event sink for gossip membership (when the config has a gossip section). */
  membership?: Pick<MembershipDeps, "host" | "onEvent">;
}

/**
 * skiff with `workers: 0`: one data plane in the main isolate, with its metrics, access log
 * and admin server. `start` binds everything or throws (binding nothing half-way); `stop`
 * closes it all.
 */
export class Sidecar {
  readonly config: Config;
  readonly registry = new MetricsRegistry();
  readonly dataPlane: DataPlane;
  admin: AdminServer | undefined;
  readonly #deps: SidecarDeps;
  readonly #accessLog: AccessLogSink;
  #ready = false;

  constructor(config: Config, deps: SidecarDeps) {
    this.config = config;
    this.#deps = deps;
    this.#accessLog = createAccessLog(config.access_log, {
      clock: deps.clock,
      logger: deps.log,
      registry: this.registry,
    });
    this.dataPlane = new DataPlane(config, {
      ...deps,
      registry: this.registry,
      accessLog: this.#accessLog,
      resolver: (c) => gossipResolver(this.membership, c),
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

  /** True once every listener is bound. */
  get ready(): boolean {
    return this.#ready;
  }

  /**
   * Builds and binds everything.
   *
   * @throws when a listener or the admin port cannot be bound (as a rejection)
   */
  async start(): Promise<void> {
    const d = this.#deps;
    registerProcessMetrics(this.registry, d.clock);
    this.dataPlane.stats.watchClusters(this.registry, () => this.dataPlane.views());
    try {
      this.identity = await openIdentity(this.config, { ...d, registry: this.registry });
      const mesh = await meshFor(this.config, this.identity);
      const secure = await secureFor(this.config, this.identity, {
        registry: this.registry,
        log: d.log,
        reusePort: d.reusePort,
      });
      this.membership = await startMembership(this.config, {
        ...d,
        registry: this.registry,
        host: d.membership?.host,
        onEvent: d.membership?.onEvent,
        spiffeId: this.identity?.current().id.toString(),
      });
      await this.dataPlane.start({ mesh, secure });
      this.admin = startAdmin(this.config, {
        config: () => this.config,
        clusters: () => this.dataPlane.views(),
        members: this.membership && (() => this.membership!.view()),
        registry: this.registry,
        ready: () => this.#ready,
      }, d.log);
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.#ready = true;
  }

  /** Closes listeners, the admin server, pools and the access log. */
  async stop(): Promise<void> {
    this.#ready = false;
    await this.membership?.stop();
    await this.dataPlane.stop();
    await this.admin?.close();
    await this.#accessLog.close();
    this.identity?.close();
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
  log.info("admin bound", { address: `${admin.addr.hostname}:${admin.addr.port}` });
  return admin;
}
