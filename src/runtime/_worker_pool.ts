import type { Config } from "../config/schema.ts";
import type { Clock, Logger, LogLevel, Timer } from "../core/mod.ts";
import type { AccessLogSink, Counter, MetricsRegistry } from "../telemetry/mod.ts";
import { Ring, type SharedWasm, type StatsBlock } from "../wasm/mod.ts";
import { WorkerRingReader } from "./_worker_ring_reader.ts";
import { awaitWorker, type Slot } from "./_worker_slot.ts";
import {
  Rec,
  STATUS_INTERVAL_MS,
  type WorkerControl,
  type WorkerStart,
} from "./worker_protocol.ts";

const encoder = new TextEncoder();

/** What the pool needs from the composition root (the part of `WorkerNodeDeps` it reads). */
export interface WorkerPoolDeps {
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
}

/** Where the pool's Workers meet the main isolate. */
export interface WorkerPoolShared {
  /** How many Workers (at least 1). */
  count: number;
  /** The memory shared with the Workers; rings are placed in it. */
  wasm: SharedWasm;
  /** The stats block every Worker updates. */
  stats: StatsBlock;
  /** Bytes of each Worker's rings. */
  sizes: { toMainRing: number; toWorkerRing: number };
  /** Where `skiff_worker_restarts_total` goes. */
  registry: MetricsRegistry;
  /** Where the Workers' access-log lines go. */
  accessLog: AccessLogSink;
}

/** What the pool asks of the node: what a new Worker serves, and what follows. */
export interface WorkerPoolHooks {
  /** The config version a new Worker starts on. */
  version(): number;
  /** The config it serves. */
  config(): Config;
  /** A Worker was launched and sent the config: send it what else it needs. */
  launched(slot: Slot): void;
  /** A replacement serves a config version other than the current one: bring it up to date. */
  behind(): void;
}

/**
 * The data-plane Workers of a node, one per slot: launches them, replaces one that crashes,
 * ends or stops reporting (same index), counted in `skiff_worker_restarts_total`, and stops
 * or drains them.
 */
export class WorkerPool {
  /** One per Worker index. */
  readonly slots: Slot[] = [];
  /** A drain has begun: Workers that end are not replaced, silent ones not looked for. */
  draining = false;
  readonly #deps: WorkerPoolDeps;
  readonly #hooks: WorkerPoolHooks;
  readonly #wasm: SharedWasm;
  readonly #stats: StatsBlock;
  readonly #sizes: WorkerPoolShared["sizes"];
  readonly #reader: WorkerRingReader;
  readonly #restarts: (reason: string) => Counter;
  #timer: Timer | undefined;
  /** Workers are kept running (replaced when they fail). */
  #running = false;
  /** Workers declared unresponsive (they may still hold their sockets). */
  #stuck = 0;

  constructor(shared: WorkerPoolShared, deps: WorkerPoolDeps, hooks: WorkerPoolHooks) {
    this.#deps = deps;
    this.#hooks = hooks;
    this.#wasm = shared.wasm;
    this.#stats = shared.stats;
    const sizes = shared.sizes;
    this.#sizes = sizes;
    for (let i = 0; i < shared.count; i++) {
      this.slots.push({
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
    this.#reader = new WorkerRingReader({
      clock: deps.clock,
      log: deps.log,
      accessLog: shared.accessLog,
      ended: (slot, why, reason) => this.#ended(slot, why, reason),
    });
    const restarts = shared.registry.counter(
      "skiff_worker_restarts",
      "Data-plane Workers replaced, by reason (crashed, exited, unresponsive, failed_start).",
      ["reason"] as const,
    );
    this.#restarts = (reason) => restarts.labels(reason);
  }

  /** True from `start` until `stop`: Workers are kept running. */
  get running(): boolean {
    return this.#running;
  }

  /** How many Workers have been declared unresponsive. */
  get stuck(): number {
    return this.#stuck;
  }

  /** Launches every Worker and reads their rings; resolves with each launch's outcome. */
  start(): Promise<(string | null)[]> {
    this.#running = true;
    this.#reader.consuming = true;
    const started = this.slots.map((s) => this.#launch(s));
    for (const s of this.slots) void this.#reader.consume(s);
    return Promise.all(started);
  }

  /** Replaces, from now on, every Worker that stops reporting. */
  startSupervising(): void {
    this.#timer = this.#deps.clock.setTimer(() => this.#supervise(), STATUS_INTERVAL_MS);
  }

  /** Stops replacing Workers, stops every one (bounded) and stops reading their rings. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#timer?.cancel();
    for (const s of this.slots) s.retry?.cancel();
    await Promise.all(this.slots.map((s) => this.#stopWorker(s)));
    this.#reader.consuming = false;
  }

  /** Handles what the Workers left in their rings (after `stop`). */
  readRemaining(): void {
    for (const s of this.slots) this.#reader.drain(s);
  }

  /** Lets every Worker drain its listeners for up to `timeoutMs`, then ends it. */
  async drainWorkers(timeoutMs: number): Promise<void> {
    await Promise.all(this.slots.map((s) => this.#stopWorker(s, timeoutMs)));
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
    const outcome = awaitWorker(slot, "start", d.startTimeoutMs ?? 15_000, d.clock);
    worker.postMessage(start);
    const body = encoder.encode(
      JSON.stringify({ version: this.#hooks.version(), config: this.#hooks.config() }),
    );
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
    this.#hooks.launched(slot);
    return outcome;
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
    if (this.#running && !this.draining) void this.replace(slot, reason);
  }

  /** Replaces the Worker of `slot` once, however many failures report it. */
  replace(slot: Slot, reason: string): Promise<string | null> {
    slot.replacing ??= this.#doReplace(slot, reason).finally(() => {
      slot.replacing = undefined;
      // Launched while a reload ran, it may serve the config before it: bring it up to date
      // (queued behind any reload still running).
      if (
        slot.worker && slot.serving !== 0 && slot.serving !== this.#hooks.version() &&
        !this.draining
      ) {
        this.#hooks.behind();
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
      slot.retry = d.clock.setTimer(() => void this.replace(slot, "failed_start"), delay);
    }
    return outcome;
  }

  /** Stops the Worker of `slot`: at once, or after draining for up to `drainMs`. */
  async #stopWorker(slot: Slot, drainMs?: number): Promise<void> {
    const worker = slot.worker;
    if (!worker) return;
    const stopped = awaitWorker(slot, "stop", 5_000 + (drainMs ?? 0), this.#deps.clock);
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
    for (const s of this.draining ? [] : this.slots) {
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
      void this.replace(s, "unresponsive");
    }
    if (this.#running) this.#timer = d.clock.setTimer(() => this.#supervise(), STATUS_INTERVAL_MS);
  }
}
