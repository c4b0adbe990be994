import type { ClusterConfig, Config } from "../config/schema.ts";
import {
  type Clock,
  type Logger,
  type LogLevel,
  mathRng,
  type Rng,
  Serial,
  type Timer,
} from "../core/mod.ts";
import type { AdminServer } from "../control/admin.ts";
import { type ClusterView, mergeClusterViews } from "../dataplane/cluster_view.ts";
import { DataplaneStats } from "../dataplane/stats.ts";
import {
  type AccessLogSink,
  type Counter,
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
import { reloadFailure, restartNeeded, withRestartSections } from "./reload_sections.ts";
import {
  Rec,
  STATUS_INTERVAL_MS,
  type WorkerControl,
  type WorkerStart,
} from "./worker_protocol.ts";

/** What the node needs from the composition root. */
export interface WorkerNodeDeps {
  clock: Clock;
  log: Logger;
  /** The level Workers log at. */
  logLevel: LogLevel;
  /** A Worker silent for this long is declared stuck and replaced. Default 5 s. */
  heartbeatTimeoutMs?: number;
  /** How long `start` waits for every Worker to serve. Default 15 s. */
  startTimeoutMs?: number;
  /** Lets tests make a Worker hang (never set in production). */
  testHooks?: boolean;
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

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** What the node is waiting to hear from a Worker. */
interface Waiter {
  /**
   * `start`: ready or failed after a launch; `config`: ready or failed after a reload sent it a
   * config version; `stop`: stopped. A Worker that ends settles any of them.
   */
  kind: "start" | "config" | "stop";
  settle: (outcome: string | null) => void;
}

interface Slot {
  index: number;
  /** Bumped at every launch; records carry it as their version, so that what a predecessor
   * left in the ring is never taken for the current Worker's word. */
  generation: number;
  worker: Worker | undefined;
  toMain: Ring;
  toWorker: Ring;
  /** Last time anything of this generation arrived (monotonic ms). */
  lastSeen: number;
  /** The config version the Worker serves (0: none yet). */
  serving: number;
  clusters: ClusterView[];
  /** The Worker's last shadow check of a reload (`reload.shadow`), for `/config/diff`. */
  shadow?: unknown;
  waiter: Waiter | undefined;
  /** The replacement in progress, so that failures arriving together replace once. */
  replacing: Promise<string | null> | undefined;
  /** Consecutive failed launches, for the retry backoff. */
  failures: number;
  retry: Timer | undefined;
}

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
  readonly #sizes: typeof DEFAULT_SIZES;
  readonly #wasm: SharedWasm;
  readonly #stats: StatsBlock;
  readonly #storage: SharedMetricStorage;
  readonly #accessLog: AccessLogSink;
  readonly #slots: Slot[] = [];
  readonly #restarts: (reason: string) => Counter;
  #timer: Timer | undefined;
  /** Workers are kept running (replaced when they fail). */
  #running = false;
  #draining = false;
  #drainRun: Promise<void> | undefined;
  readonly #reloads = new Serial();
  #config: Config;
  /** 1 for the first config, +1 per applied reload (Worker versions also count rollbacks). */
  #appliedVersions = 1;
  /** The rings from the Workers are read. */
  #consuming = false;
  /** Workers declared unresponsive (they may still hold their sockets). */
  #stuck = 0;
  #version = 0;
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
    this.#config = config;
    this.#count = count;
    this.#deps = deps;
    this.#gossip = new GossipResolvers(config);
    const sizes = { ...DEFAULT_SIZES, ...deps.sizes };
    this.#sizes = sizes;
    const ringBytes = count * (Ring.bytes(sizes.toMainRing) + Ring.bytes(sizes.toWorkerRing));
    const pages = Math.ceil((ringBytes + StatsBlock.bytes(sizes)) / 65536) + 32; // + module data
    // Room to grow: a Worker replaced as unresponsive gets fresh rings.
    this.#wasm = SharedWasm.create({ initialPages: pages, maximumPages: pages * 2 });
    this.#stats = StatsBlock.create(this.#wasm, sizes);
    this.#storage = new SharedMetricStorage(this.#stats);
    this.registry = new MetricsRegistry({ storage: this.#storage });
    const storage = this.#storage;
    this.registry.beforeCollect(() => void storage.adopt(this.registry));
    for (let i = 0; i < count; i++) {
      this.#slots.push({
        index: i,
        generation: 0,
        worker: undefined,
        toMain: Ring.create(this.#wasm, sizes.toMainRing),
        toWorker: Ring.create(this.#wasm, sizes.toWorkerRing),
        lastSeen: 0,
        serving: 0,
        clusters: [],
        waiter: undefined,
        replacing: undefined,
        failures: 0,
        retry: undefined,
      });
    }
    this.#accessLog = createAccessLog(config.access_log, {
      clock: deps.clock,
      logger: deps.log,
      registry: this.registry,
    });
    const restarts = this.registry.counter(
      "skiff_worker_restarts",
      "Data-plane Workers replaced, by reason (crashed, exited, unresponsive, failed_start).",
      ["reason"] as const,
    );
    this.#restarts = (reason) => restarts.labels(reason);
  }

  /** Number of Workers serving (the current config, or the one before while a reload runs). */
  get serving(): number {
    return this.#slots.filter((s) => s.serving > 0 && s.worker).length;
  }

  /** True once every Worker serves the config, and none has been stuck, until a drain starts. */
  get ready(): boolean {
    return this.#running && !this.#draining && this.#stuck === 0 &&
      this.serving === this.#count;
  }

  /** The effective config: the last one applied (sections that need a restart as started). */
  get config(): Config {
    return this.#config;
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
    this.#running = true;
    this.#consuming = true;
    this.#version = 1;
    const started = this.#slots.map((s) => this.#launch(s));
    for (const s of this.#slots) void this.#consume(s);
    const outcomes = await Promise.all(started);
    const failure = outcomes.find((o) => o !== null);
    if (failure) {
      await this.stop();
      throw new Error(failure);
    }
    this.#timer = d.clock.setTimer(() => this.#supervise(), STATUS_INTERVAL_MS);
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
    return this.#reloads.run(() => this.#reload(config));
  }

  async #reload(config: Config): Promise<ReloadOutcome> {
    const restart = restartNeeded(this.#config, config);
    const effective = withRestartSections(config, this.#config);
    if (!this.#running || this.#draining) {
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
    if (this.#draining) return reloadFailure(new Error(failed[0]!), this.#appliedVersions, restart);
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
      const outcome = this.#await(slot, "config", this.#deps.startTimeoutMs ?? 15_000);
      let pushed = false;
      try {
        pushed = slot.toWorker.push(Rec.config, body, slot.generation);
      } catch { /* larger than a record can be */ }
      if (!pushed) slot.waiter?.settle(`The config does not fit the ring to Worker ${slot.index}`);
      return outcome;
    }));
  }

  /**
   * Graceful drain: not ready any more, gossip left (stopped silently for a handover), every
   * Worker drains its listeners (`drain.timeout`), then the node stops. Idempotent.
   */
  drain(reason: string, opts: DrainOptions = {}): Promise<void> {
    this.#drainRun ??= (async () => {
      this.#draining = true;
      // A reload in progress finishes first (it then leaves the Workers alone).
      await this.#reloads.run(() => Promise.resolve());
      const timeoutMs = this.#config.drain.timeout;
      this.#deps.log.info("draining", { reason, timeout_ms: timeoutMs });
      if (opts.handover) await this.handOver();
      else await this.membership?.stop();
      await Promise.all(this.#slots.map((s) => this.#stopWorker(s, timeoutMs)));
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
    if (!this.#running) return;
    this.#running = false;
    this.#timer?.cancel();
    for (const s of this.#slots) s.retry?.cancel();
    await Promise.all(this.#slots.map((s) => this.#stopWorker(s)));
    this.#consuming = false;
    await this.admin?.close();
    for (const s of this.#slots) this.#drain(s);
    await this.#accessLog.close();
  }

  /**
   * Replaces Worker `index` as if it had failed (operators and tests); resolves with null
   * once the new Worker serves, or with why it could not start.
   */
  restart(index: number, reason: string): Promise<string | null> {
    return this.#replace(this.#slots[index], reason);
  }

  /** Sends a control message to Worker `index` (tests). */
  control(index: number, msg: WorkerControl): void {
    this.#slots[index].worker?.postMessage(msg);
  }

  /** Starts a new generation of the Worker of `slot`; resolves with null or the failure. */
  #launch(slot: Slot): Promise<string | null> {
    const d = this.#deps;
    slot.generation = (slot.generation + 1) & 0xffff;
    const generation = slot.generation;
    const worker = new Worker(new URL("./worker_main.ts", import.meta.url).href, {
      type: "module",
      name: `skiff-worker-${slot.index}`,
    });
    slot.worker = worker;
    slot.serving = 0;
    slot.clusters = [];
    slot.lastSeen = d.clock.monotonic();
    worker.onerror = (e) => {
      e.preventDefault(); // never let a Worker's error end the main isolate
      if (slot.worker !== worker) return;
      d.log.error("worker crashed", { worker: slot.index, err: e.message });
      this.#ended(slot, `crashed: ${e.message}`, "crashed");
    };
    const start: WorkerStart = {
      kind: "start",
      index: slot.index,
      generation,
      wasm: this.#wasm.handle,
      stats: this.#stats.addr,
      toWorker: slot.toWorker.addr,
      toMain: slot.toMain.addr,
      logLevel: d.logLevel,
      testHooks: d.testHooks ?? false,
    };
    const outcome = this.#await(slot, "start", d.startTimeoutMs ?? 15_000);
    worker.postMessage(start);
    const body = encoder.encode(JSON.stringify({ version: this.#version, config: this.config }));
    let pushed = false;
    try {
      pushed = slot.toWorker.push(Rec.config, body, generation);
    } catch { /* larger than a record can be */ }
    if (!pushed) {
      slot.waiter?.settle(
        `The config (${body.length} bytes) does not fit the ring to Worker ${slot.index}; ` +
          "it is too large for node mode, or run with workers: 0",
      );
    }
    for (const c of this.#gossipClusters()) this.#sendEndpoints(slot, c);
    return outcome;
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

  /**
   * Waits for the current Worker of `slot` to start or stop, or `timeoutMs`. A wait already
   * pending is settled first (as superseded), so no promise is left hanging.
   */
  #await(slot: Slot, kind: Waiter["kind"], timeoutMs: number): Promise<string | null> {
    slot.waiter?.settle(`Worker ${slot.index}: superseded`);
    const { promise, resolve } = Promise.withResolvers<string | null>();
    const waiter: Waiter = {
      kind,
      settle: (outcome) => {
        timer.cancel();
        if (slot.waiter === waiter) slot.waiter = undefined;
        resolve(outcome);
      },
    };
    const timer = this.#deps.clock.setTimer(
      () =>
        waiter.settle(
          `Worker ${slot.index} did not ${
            kind === "start" ? "start serving" : kind === "config" ? "apply the config" : "stop"
          } within ` +
            `${timeoutMs} ms`,
        ),
      timeoutMs,
    );
    slot.waiter = waiter;
    return promise;
  }

  /** The current Worker of `slot` ended or crashed: fail its start, or replace it. */
  #ended(slot: Slot, why: string, reason: string): void {
    const waiter = slot.waiter;
    if (waiter) {
      waiter.settle(waiter.kind === "stop" ? null : `Worker ${slot.index} ${why}`);
      // A failed start is retried by whoever launched it (or fails `start`); a Worker that
      // ended while applying a reload's config is replaced like any other.
      if (waiter.kind !== "config") return;
    }
    if (this.#running && !this.#draining) void this.#replace(slot, reason);
  }

  /** Replaces the Worker of `slot` once, however many failures report it. */
  #replace(slot: Slot, reason: string): Promise<string | null> {
    slot.replacing ??= this.#doReplace(slot, reason).finally(() => {
      slot.replacing = undefined;
      // Launched while a reload ran, it may serve the config before it: bring it up to date
      // (queued behind any reload still running).
      if (slot.worker && slot.serving !== 0 && slot.serving !== this.#version && !this.#draining) {
        void this.#reloads.run(() => this.#converge());
      }
    });
    return slot.replacing;
  }

  async #doReplace(slot: Slot, reason: string): Promise<string | null> {
    const d = this.#deps;
    // A retry still pending would replace the Worker this replacement starts.
    slot.retry?.cancel();
    slot.retry = undefined;
    slot.worker?.terminate();
    slot.worker = undefined;
    if (!this.#running) return null;
    this.#restarts(reason).inc();
    d.log.warn("replacing worker", { worker: slot.index, reason });
    if (reason === "unresponsive") {
      // The stuck Worker may still push into its rings: its successor gets fresh ones, so
      // that each ring keeps exactly one producer and one consumer.
      try {
        slot.toMain = Ring.create(this.#wasm, this.#sizes.toMainRing);
        slot.toWorker = Ring.create(this.#wasm, this.#sizes.toWorkerRing);
      } catch (err) {
        d.log.error("no shared memory left for a replacement worker", { worker: slot.index, err });
        return `Worker ${slot.index}: no shared memory left for new rings`;
      }
    }
    const outcome = await this.#launch(slot);
    if (outcome === null) {
      slot.failures = 0;
      return null;
    }
    // Try again later, backing off, so a Worker that cannot start does not spin.
    slot.failures++;
    (slot.worker as Worker | undefined)?.terminate(); // set again by #launch
    slot.worker = undefined;
    const delay = Math.min(30_000, 500 * 2 ** Math.min(slot.failures - 1, 6));
    d.log.error("replacement worker failed; trying again", {
      worker: slot.index,
      err: outcome,
      retry_in_ms: delay,
    });
    if (this.#running) {
      slot.retry = d.clock.setTimer(() => void this.#replace(slot, "failed_start"), delay);
    }
    return outcome;
  }

  /** Stops the Worker of `slot`: at once, or after draining for up to `drainMs`. */
  async #stopWorker(slot: Slot, drainMs?: number): Promise<void> {
    const worker = slot.worker;
    if (!worker) return;
    const stopped = this.#await(slot, "stop", 5_000 + (drainMs ?? 0));
    worker.postMessage(
      (drainMs === undefined
        ? { kind: "stop" }
        : { kind: "drain", timeoutMs: drainMs }) satisfies WorkerControl,
    );
    const outcome = await stopped;
    if (outcome) {
      this.#deps.log.warn("worker did not stop in time; ending it", { worker: slot.index });
    }
    worker.terminate();
    slot.worker = undefined;
  }

  #supervise(): void {
    const d = this.#deps;
    const now = d.clock.monotonic();
    const limit = d.heartbeatTimeoutMs ?? 5_000;
    for (const s of this.#draining ? [] : this.#slots) {
      // A Worker still starting up answers to its start deadline instead.
      if (!s.worker || s.serving === 0 || s.replacing || now - s.lastSeen <= limit) continue;
      // Deno 2.9.6 cannot stop a Worker that is running JavaScript (terminate() leaves a busy
      // loop spinning), so a stuck Worker keeps its listening socket and with it a share of
      // new connections. A replacement restores capacity; readiness stays off so that the
      // process supervisor restarts skiff.
      this.#stuck++;
      d.log.error("worker unresponsive; replacing it, and skiff is no longer ready", {
        worker: s.index,
        silent_ms: Math.round(now - s.lastSeen),
        fix: "restart skiff: a stuck Worker cannot be stopped from the main isolate",
      });
      void this.#replace(s, "unresponsive");
    }
    if (this.#running) this.#timer = d.clock.setTimer(() => this.#supervise(), STATUS_INTERVAL_MS);
  }

  /** Reads one Worker's ring (whichever the slot has now) for as long as the node runs. */
  async #consume(slot: Slot): Promise<void> {
    while (this.#consuming) {
      if (!this.#drain(slot)) await slot.toMain.waitAsync(STATUS_INTERVAL_MS);
    }
  }

  /** Handles every record waiting in the Worker's ring; false when there was none. */
  #drain(slot: Slot): boolean {
    let any = false;
    for (;;) {
      let rec;
      try {
        rec = slot.toMain.pop();
      } catch (err) {
        this.#deps.log.error("corrupt record from worker dropped", { worker: slot.index, err });
        return true;
      }
      if (rec === null) return any;
      any = true;
      try {
        this.#handle(slot, rec.type, rec.version, rec.payload);
      } catch (err) {
        this.#deps.log.error("bad record from worker ignored", {
          worker: slot.index,
          type: rec.type,
          err,
        });
      }
    }
  }

  #handle(slot: Slot, type: number, generation: number, payload: Uint8Array): void {
    if (type === Rec.accessLog) {
      this.#accessLog.writeLine(decoder.decode(payload)); // whoever wrote it, it happened
      return;
    }
    if (generation !== slot.generation) return; // a predecessor's last words
    slot.lastSeen = this.#deps.clock.monotonic();
    const body = JSON.parse(decoder.decode(payload));
    switch (type) {
      case Rec.status:
        slot.clusters = body.clusters;
        break;
      case Rec.ready:
        slot.serving = body.version;
        if (body.shadow !== undefined) slot.shadow = body.shadow;
        if (slot.waiter?.kind === "start" || slot.waiter?.kind === "config") {
          slot.waiter.settle(null);
        }
        break;
      case Rec.failed:
        if (body.shadow !== undefined) slot.shadow = body.shadow;
        if (slot.waiter?.kind === "start" || slot.waiter?.kind === "config") {
          slot.waiter.settle(
            `Worker ${slot.index} cannot serve config ${body.version}: ${body.error}`,
          );
        } else {this.#deps.log.warn("worker refused a config", {
            worker: slot.index,
            err: body.error,
          });}
        break;
      case Rec.stopped:
        slot.serving = 0;
        if (slot.waiter?.kind === "stop") slot.waiter.settle(null);
        break;
      case Rec.exiting:
        this.#deps.log.error("worker ended", { worker: slot.index, err: body.error });
        this.#ended(slot, `ended: ${body.error}`, "exited");
        break;
    }
  }
}
