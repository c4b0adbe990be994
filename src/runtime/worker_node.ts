import type { Config } from "../config/schema.ts";
import type { Clock, Logger, LogLevel, Timer } from "../core/mod.ts";
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
import { startAdmin } from "./sidecar.ts";
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

interface Slot {
  index: number;
  worker: Worker | undefined;
  toMain: Ring;
  toWorker: Ring;
  /** Last time anything arrived from the Worker (monotonic ms). */
  lastSeen: number;
  /** The config version the Worker serves (0: none yet). */
  serving: number;
  clusters: ClusterView[];
  /** Set while the node waits for this Worker to start or stop. */
  waiter: ((outcome: string | null) => void) | undefined;
}

/**
 * skiff in node mode (`workers: N`): N data-plane Workers serve the listeners side by side
 * (SO_REUSEPORT, the kernel spreads connections), while the main isolate keeps the admin API,
 * the access-log file and the supervision. Workers and main share one WebAssembly memory:
 * metrics are updated by every Worker in one stats block and read here without messages;
 * access-log lines and status reports come through one ring per Worker, configs go out
 * through another. A Worker that crashes or stops reporting is replaced (same index, same
 * rings) and counted in `skiff_worker_restarts_total`; the other Workers keep serving.
 */
export class WorkerNode {
  readonly config: Config;
  readonly registry: MetricsRegistry;
  admin: AdminServer | undefined;
  readonly #deps: WorkerNodeDeps;
  readonly #count: number;
  readonly #wasm: SharedWasm;
  readonly #stats: StatsBlock;
  readonly #storage: SharedMetricStorage;
  readonly #accessLog: AccessLogSink;
  readonly #slots: Slot[] = [];
  readonly #restarts: (reason: string) => Counter;
  #timer: Timer | undefined;
  /** Workers are kept running (replaced when they fail). */
  #running = false;
  /** The rings from the Workers are read. */
  #consuming = false;
  /** Workers declared unresponsive (they may still hold their sockets). */
  #stuck = 0;
  #version = 0;

  /**
   * @param config the config every Worker serves
   * @param count how many Workers (at least 1)
   */
  constructor(config: Config, count: number, deps: WorkerNodeDeps) {
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`A node needs at least one Worker, got ${count}`);
    }
    this.config = config;
    this.#count = count;
    this.#deps = deps;
    const sizes = { ...DEFAULT_SIZES, ...deps.sizes };
    const ringBytes = count * (sizes.toMainRing + sizes.toWorkerRing);
    const statsBytes = sizes.maxCells * 8 + sizes.maxSeries * 64 + sizes.keyBytes;
    const pages = Math.ceil((ringBytes + statsBytes) / 65536) + 32;
    this.#wasm = SharedWasm.create({ initialPages: pages, maximumPages: pages * 2 });
    this.#stats = StatsBlock.create(this.#wasm, sizes);
    this.#storage = new SharedMetricStorage(this.#stats);
    this.registry = new MetricsRegistry({ storage: this.#storage });
    const storage = this.#storage;
    this.registry.beforeCollect(() => void storage.adopt(this.registry));
    for (let i = 0; i < count; i++) {
      this.#slots.push({
        index: i,
        worker: undefined,
        toMain: Ring.create(this.#wasm, sizes.toMainRing),
        toWorker: Ring.create(this.#wasm, sizes.toWorkerRing),
        lastSeen: 0,
        serving: 0,
        clusters: [],
        waiter: undefined,
      });
    }
    this.#accessLog = createAccessLog(config.access_log, {
      clock: deps.clock,
      logger: deps.log,
      registry: this.registry,
    });
    const restarts = this.registry.counter(
      "skiff_worker_restarts",
      "Data-plane Workers replaced, by reason (crashed, exited, unresponsive).",
      ["reason"] as const,
    );
    this.#restarts = (reason) => restarts.labels(reason);
  }

  /** Number of Workers serving the current config. */
  get serving(): number {
    return this.#slots.filter((s) => s.serving === this.#version && s.worker).length;
  }

  /** True once every Worker serves the config, and none has been stuck. */
  get ready(): boolean {
    return this.#running && this.#stuck === 0 && this.serving === this.#count;
  }

  /**
   * Starts the Workers, waits until every one serves the config, then starts the admin
   * server.
   *
   * @throws when a Worker cannot serve the config (e.g. a port is taken) or does not report
   *   in time; every Worker is stopped again
   */
  async start(): Promise<void> {
    const d = this.#deps;
    registerProcessMetrics(this.registry, d.clock);
    // The families the Workers fill, so that this registry exposes them.
    const stats = new DataplaneStats(this.registry, offAccessLog, { worker: "" });
    stats.watchClusters(this.registry, () => this.clusters());
    this.registry.gaugeFn("skiff_workers", "Data-plane Workers serving.", () => this.serving);
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
    try {
      this.admin = startAdmin(this.config, {
        config: () => this.config,
        clusters: () => this.clusters(),
        registry: this.registry,
        ready: () => this.ready,
      }, d.log);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** The clusters as every Worker last reported them, added together. */
  clusters(): ClusterView[] {
    return mergeClusterViews(this.#slots.map((s) => s.clusters));
  }

  /** Asks every Worker to close its listeners, waits for them (bounded), then ends them. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#timer?.cancel();
    await Promise.all(this.#slots.map((s) => this.#stopWorker(s)));
    this.#consuming = false;
    await this.admin?.close();
    for (const s of this.#slots) this.#drain(s);
    await this.#accessLog.close();
  }

  /** Replaces Worker `index` as if it had failed (used by tests and operators). */
  restart(index: number, reason: string): Promise<string | null> {
    return this.#replace(this.#slots[index], reason);
  }

  /** Sends a control message to Worker `index` (tests). */
  control(index: number, msg: WorkerControl): void {
    this.#slots[index].worker?.postMessage(msg);
  }

  /** Starts the Worker of `slot` and queues the config; resolves with null or the failure. */
  #launch(slot: Slot): Promise<string | null> {
    const d = this.#deps;
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
      d.log.error("worker crashed", { worker: slot.index, err: e.message });
      if (slot.worker !== worker) return;
      // One that never served fails its start (no restart loop over a broken build); one
      // that served is replaced.
      if (slot.serving === 0 && slot.waiter) {
        slot.waiter(`Worker ${slot.index} crashed while starting: ${e.message}`);
      } else if (this.#running) void this.#replace(slot, "crashed");
    };
    const start: WorkerStart = {
      kind: "start",
      index: slot.index,
      wasm: this.#wasm.handle,
      stats: this.#stats.addr,
      toWorker: slot.toWorker.addr,
      toMain: slot.toMain.addr,
      logLevel: d.logLevel,
      testHooks: d.testHooks ?? false,
    };
    worker.postMessage(start);
    const body = encoder.encode(JSON.stringify({ version: this.#version, config: this.config }));
    if (!slot.toWorker.push(Rec.config, body)) {
      return Promise.resolve(`The config (${body.length} bytes) does not fit the Worker ring`);
    }
    return this.#await(slot, d.startTimeoutMs ?? 15_000, "did not start serving");
  }

  /** Waits for the Worker's next start/stop outcome, or `timeoutMs`. */
  #await(slot: Slot, timeoutMs: number, what: string): Promise<string | null> {
    const { promise, resolve } = Promise.withResolvers<string | null>();
    const timer = this.#deps.clock.setTimer(
      () => resolve(`Worker ${slot.index} ${what} within ${timeoutMs} ms`),
      timeoutMs,
    );
    slot.waiter = (outcome) => {
      timer.cancel();
      slot.waiter = undefined;
      resolve(outcome);
    };
    return promise;
  }

  async #replace(slot: Slot, reason: string): Promise<string | null> {
    const d = this.#deps;
    slot.worker?.terminate();
    slot.worker = undefined;
    if (!this.#running) return null;
    this.#restarts(reason).inc();
    d.log.warn("replacing worker", { worker: slot.index, reason });
    const outcome = await this.#launch(slot);
    if (outcome) d.log.error("replacement worker failed", { worker: slot.index, err: outcome });
    return outcome;
  }

  async #stopWorker(slot: Slot): Promise<void> {
    const worker = slot.worker;
    if (!worker) return;
    const stopped = this.#await(slot, 5_000, "did not stop");
    worker.postMessage({ kind: "stop" } satisfies WorkerControl);
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
    for (const s of this.#slots) {
      // A Worker still starting up answers to `#await`'s deadline instead.
      if (!s.worker || s.serving === 0 || now - s.lastSeen <= limit) continue;
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

  /** Reads one Worker's ring for as long as the node runs (its replacements included). */
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
      slot.lastSeen = this.#deps.clock.monotonic();
      if (rec.type === Rec.accessLog) {
        this.#accessLog.writeLine(decoder.decode(rec.payload));
        continue;
      }
      const body = JSON.parse(decoder.decode(rec.payload));
      switch (rec.type) {
        case Rec.status:
          slot.clusters = body.clusters;
          break;
        case Rec.ready:
          slot.serving = body.version;
          slot.waiter?.(null);
          break;
        case Rec.failed:
          slot.waiter?.(`Worker ${slot.index} cannot serve config ${body.version}: ${body.error}`);
          break;
        case Rec.stopped:
          slot.serving = 0;
          slot.waiter?.(null);
          break;
        case Rec.exiting:
          this.#deps.log.error("worker ended", { worker: slot.index, err: body.error });
          if (slot.serving === 0 && slot.waiter) {
            slot.waiter(`Worker ${slot.index} ended while starting: ${body.error}`);
          } else if (this.#running) void this.#replace(slot, "exited");
          break;
      }
    }
  }
}
