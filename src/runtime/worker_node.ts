import type { ClusterConfig, Config } from "../config/schema.ts";
import { mathRng, type Rng } from "../core/mod.ts";
import type { AdminServer } from "../control/admin.ts";
import { type ClusterView, mergeClusterViews } from "../dataplane/cluster_view.ts";
import { DataplaneStats } from "../dataplane/stats.ts";
import {
  type AccessLogSink,
  checkAccessLogFile,
  createAccessLog,
  MetricsRegistry,
  offAccessLog,
  registerProcessMetrics,
  SharedMetricStorage,
} from "../telemetry/mod.ts";
import { Ring, SharedWasm, StatsBlock } from "../wasm/mod.ts";
import type { Membership, MembershipDeps } from "./membership.ts";
import { GossipResolvers, startGossip } from "./start_membership.ts";
import type { MembersView } from "../discovery/member_view.ts";
import type { SvidSource } from "../security/svid_source.ts";
import { openIdentity } from "./identity.ts";
import { startAdmin } from "./sidecar.ts";
import type {
  DrainOptions,
  LifecycleHooks,
  ReloadOutcome,
  Runnable,
  StartOptions,
} from "./lifecycle.ts";
import { Rec, type WorkerControl } from "./worker_protocol.ts";
import { ConfigFanout } from "./_config_fanout.ts";
import { WorkerPool, type WorkerPoolDeps } from "./_worker_pool.ts";
import type { Slot } from "./_worker_slot.ts";

/** What the node needs from the composition root. */
export interface WorkerNodeDeps extends WorkerPoolDeps {
  /** Sizes of the shared structures (defaults suit thousands of series). */
  sizes?: Partial<typeof DEFAULT_SIZES>;
  /** Randomness for gossip (default `Math.random`). */
  rng?: Rng;
  /** Host facts and event sink for gossip membership (when the config has a gossip section). */
  membership?: Pick<MembershipDeps, "host" | "onEvent">;
  /** What `POST /reload` and `POST /drain` on the admin API do. */
  hooks?: LifecycleHooks;
}

const DEFAULT_SIZES = {
  /** Bytes of each Worker → main ring (access-log lines, status reports). */
  toMainRing: 1 << 20,
  /** Bytes of each main → Worker ring (config versions). */
  toWorkerRing: 1 << 20,
  maxSeries: 8192,
  maxCells: 1 << 17,
  keyBytes: 1 << 20,
};

const encoder = new TextEncoder();

/**
 * skiff in node mode (`workers: N`): N data-plane Workers serve the listeners side by side
 * (SO_REUSEPORT, the kernel spreads connections), while the main isolate keeps the admin API,
 * the access-log file and the supervision. Workers and main share one WebAssembly memory:
 * metrics are updated by every Worker in one stats block and read here without messages;
 * access-log lines and status reports come through one ring per Worker, configs go out
 * through another. A Worker that crashes, ends or stops reporting is replaced (same index)
 * and counted in `skiff_worker_restarts_total`; the other Workers keep serving.
 */
export class WorkerNode implements Runnable {
  readonly registry: MetricsRegistry;
  admin: AdminServer | undefined;
  readonly #deps: WorkerNodeDeps;
  readonly #count: number;
  readonly #accessLog: AccessLogSink;
  /** The Workers: launched, replaced, stopped and drained. */
  readonly #pool: WorkerPool;
  readonly #slots: readonly Slot[];
  /** The config the Workers serve, and its reloads. */
  readonly #fanout: ConfigFanout;
  #drainRun: Promise<void> | undefined;
  /** Gossip membership, once started (when the config has a gossip section). */
  membership: Membership | undefined;
  /** The workload's SVID, once loaded (when the config has an identity section). */
  identity: SvidSource | undefined;
  /** Unsubscribes from the gossip-discovered clusters' resolvers. */
  readonly #unwatch: (() => void)[] = [];
  /** The gossip-discovered clusters' resolvers (seeded at a hot restart). */
  readonly #gossip: GossipResolvers;
  /** The replaced process's `/members`, when this one was started by a hot restart. */
  #predecessor: MembersView | undefined;
  #handingOver: Promise<void> | undefined;

  /**
   * @param config the config every Worker serves
   * @param count how many Workers (at least 1)
   */
  constructor(config: Config, count: number, deps: WorkerNodeDeps) {
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(
        `A node needs at least one Worker, got ${count}; set workers: 1 or more`,
      );
    }
    this.#count = count;
    this.#deps = deps;
    this.#gossip = new GossipResolvers(config);
    const sizes = { ...DEFAULT_SIZES, ...deps.sizes };
    const ringBytes = count * (Ring.bytes(sizes.toMainRing) + Ring.bytes(sizes.toWorkerRing));
    const pages = Math.ceil((ringBytes + StatsBlock.bytes(sizes)) / 65536) + 32; // + module data
    // Room to grow: a Worker replaced as unresponsive gets fresh rings.
    const wasm = SharedWasm.create({ initialPages: pages, maximumPages: pages * 2 });
    const stats = StatsBlock.create(wasm, sizes);
    const storage = new SharedMetricStorage(stats);
    this.registry = new MetricsRegistry({ storage });
    this.registry.beforeCollect(() => void storage.adopt(this.registry));
    this.#accessLog = createAccessLog(config.access_log, {
      clock: deps.clock,
      logger: deps.log,
      registry: this.registry,
    });
    const registry = this.registry;
    const shared = { count, wasm, stats, sizes, registry, accessLog: this.#accessLog };
    this.#pool = new WorkerPool(shared, deps, {
      version: () => this.#fanout.version,
      config: () => this.config,
      launched: (slot) => {
        for (const c of this.#gossipClusters()) this.#sendEndpoints(slot, c);
      },
      behind: () => this.#fanout.converge(),
    });
    this.#slots = this.#pool.slots;
    this.#fanout = new ConfigFanout(config, this.#pool, deps);
  }

  /** Number of Workers serving (the current config, or the one before while a reload runs). */
  get serving(): number {
    return this.#slots.filter((s) => s.serving > 0 && s.worker).length;
  }

  /** True once every Worker serves the config, and none has been stuck, until a drain starts. */
  get ready(): boolean {
    return this.#pool.running && !this.#pool.draining && this.#pool.stuck === 0 &&
      this.serving === this.#count;
  }

  /** The effective config: the last one applied (sections that need a restart as started). */
  get config(): Config {
    return this.#fanout.config;
  }

  /**
   * Starts the Workers, waits until every one serves the config, then starts the admin
   * server. Gossip-discovered clusters' endpoints go to the Workers from main: from the
   * replaced process's `/members` (`opts.members`) until membership has joined, then live.
   *
   * @throws when a Worker cannot serve the config (e.g. a port is taken) or does not report
   *   in time; every Worker is stopped again
   */
  async start(opts: StartOptions = {}): Promise<void> {
    const d = this.#deps;
    // Without the flag, Deno ends the whole process the moment a Worker asks for
    // SO_REUSEPORT; `listenDatagram` exists exactly when --unstable-net was given.
    if (typeof (Deno as { listenDatagram?: unknown }).listenDatagram !== "function") {
      throw new Error(
        "workers: N needs SO_REUSEPORT, which Deno only allows with --unstable-net; run " +
          "skiff with --unstable-net (deno task start passes it) or set workers: 0",
      );
    }
    await checkAccessLogFile(this.config.access_log);
    registerProcessMetrics(this.registry, d.clock);
    // The families the Workers fill, so that this registry exposes them.
    const stats = new DataplaneStats(this.registry, offAccessLog, { worker: "" });
    stats.watchClusters(this.registry, () => this.clusters());
    this.registry.gaugeFn("skiff_workers", "Data-plane Workers serving.", () => this.serving);
    if (opts.members && this.config.gossip) {
      this.#predecessor = opts.members;
      this.#gossip.seed(opts.members);
    }
    for (const c of this.#gossipClusters()) {
      this.#unwatch.push(this.#gossip.resolver(c)!.watch(() => {
        for (const s of this.#slots) if (s.worker) this.#sendEndpoints(s, c);
      }));
    }
    try {
      this.identity = await openIdentity(this.config, { ...d, registry: this.registry });
      if (!opts.deferAdmin) await this.#startMembership();
    } catch (err) {
      await this.stop(); // closes what did start
      throw err;
    }
    this.#fanout.starting();
    const outcomes = await this.#pool.start();
    const failure = outcomes.find((o) => o !== null);
    if (failure) {
      await this.stop();
      throw new Error(failure);
    }
    this.#pool.startSupervising();
    if (opts.deferAdmin) return;
    try {
      this.#startAdmin();
    } catch (err) {
      await this.stop();
      throw err;
    }
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

  async #startMembership(predecessor?: MembersView): Promise<void> {
    const d = this.#deps;
    this.membership = await startGossip(
      this.config,
      {
        clock: d.clock,
        rng: d.rng ?? mathRng,
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
      clusters: () => this.clusters(),
      members: this.membership && (() => this.membership!.view()),
      registry: this.registry,
      ready: () => this.ready,
      hooks: this.#deps.hooks,
      // Each Worker replays its own recent requests: one report per Worker.
      configDiff: () => ({ workers: this.#slots.map((s) => s.shadow ?? null) }),
    }, this.#deps.log);
  }

  /**
   * Sends `config` to every Worker as the next version and waits for each to apply it. When
   * one cannot, the others go back to the running config and the reload is refused. Sections
   * that need a restart keep their running values (`restartNeeded`).
   */
  reload(config: Config): Promise<ReloadOutcome> {
    return this.#fanout.reload(config);
  }

  /**
   * Graceful drain: not ready any more, gossip left (stopped silently for a handover), every
   * Worker drains its listeners (`drain.timeout`), then the node stops. Idempotent.
   */
  drain(reason: string, opts: DrainOptions = {}): Promise<void> {
    this.#drainRun ??= (async () => {
      this.#pool.draining = true;
      // A reload in progress finishes first (it then leaves the Workers alone).
      await this.#fanout.idle();
      const timeoutMs = this.config.drain.timeout;
      this.#deps.log.info("draining", { reason, timeout_ms: timeoutMs });
      if (opts.handover) await this.handOver();
      else await this.membership?.stop();
      await this.#pool.drainWorkers(timeoutMs);
      await this.stop();
      this.#deps.log.info("drained", { reason });
    })();
    return this.#drainRun;
  }

  /** The clusters as every Worker last reported them, added together. */
  clusters(): ClusterView[] {
    return mergeClusterViews(this.#slots.map((s) => s.clusters));
  }

  /** Each Worker's last report of its clusters, by Worker index. */
  reports(): ClusterView[][] {
    return this.#slots.map((s) => s.clusters);
  }

  /** Stops gossip without a leave, for a hot-restarting successor (see `Runnable.handOver`). */
  handOver(): Promise<void> {
    return this.#handingOver ??= this.membership?.stop({ leave: false }) ?? Promise.resolve();
  }

  /** Asks every Worker to close its listeners, waits for them (bounded), then ends them. */
  async stop(): Promise<void> {
    for (const u of this.#unwatch.splice(0)) u();
    this.#gossip.close();
    await this.membership?.stop();
    this.identity?.close();
    if (!this.#pool.running) return;
    await this.#pool.stop();
    await this.admin?.close();
    this.#pool.readRemaining();
    await this.#accessLog.close();
  }

  /**
   * Replaces Worker `index` as if it had failed (operators and tests); resolves with null
   * once the new Worker serves, or with why it could not start.
   */
  restart(index: number, reason: string): Promise<string | null> {
    return this.#pool.replace(this.#slots[index], reason);
  }

  /** Sends a control message to Worker `index` (tests). */
  control(index: number, msg: WorkerControl): void {
    this.#slots[index].worker?.postMessage(msg);
  }

  /** The clusters whose endpoints gossip membership discovers. */
  #gossipClusters(): Config["clusters"] {
    return this.config.clusters.filter((c) => c.discovery.type === "gossip");
  }

  /** Sends a gossip-discovered cluster's current endpoints to the Worker of `slot`. */
  #sendEndpoints(slot: Slot, c: ClusterConfig): void {
    const cluster = c.name;
    const set = this.#gossip.resolver(c)!.current();
    const endpoints = set.endpoints.map((e) => ({
      address: e.address,
      weight: e.weight,
      labels: e.labels,
      spiffeId: e.spiffeId,
    }));
    const body = encoder.encode(JSON.stringify({ cluster, endpoints }));
    let pushed = false;
    try {
      pushed = slot.toWorker.push(Rec.endpoints, body, slot.generation);
    } catch { /* larger than a record can be */ }
    if (!pushed) {
      this.#deps.log.error("the endpoints of a cluster do not fit the ring to a Worker", {
        worker: slot.index,
        cluster,
        bytes: body.length,
      });
    }
  }
}
