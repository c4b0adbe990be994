/**
 * Entry point of a data-plane Worker (node mode, `workers: N`): serves the config the main
 * isolate sends through its ring, with listeners bound with SO_REUSEPORT next to the other
 * Workers', metrics in the shared stats block, and access-log lines and status reports
 * pushed to the main isolate.
 * @module
 */
/// <reference lib="deno.worker" />
import type { Config } from "../config/schema.ts";
import { Logger, mathRng, systemClock, type Timer } from "../core/mod.ts";
import {
  MetricsRegistry,
  offAccessLog,
  RingAccessLog,
  SharedMetricStorage,
} from "../telemetry/mod.ts";
import { Ring, SharedWasm, StatsBlock } from "../wasm/mod.ts";
import { type EndpointSpec, StaticResolver } from "../discovery/mod.ts";
import type { SvidSource } from "../security/svid_source.ts";
import { DataPlane, ShadowRefusedError } from "./data_plane.ts";
import { meshFor, openIdentity, secureFor } from "./identity.ts";
import {
  Rec,
  STATUS_INTERVAL_MS,
  type WorkerControl,
  type WorkerStart,
} from "./worker_protocol.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Room in the ring to the main isolate that access-log lines never take. */
const CONTROL_RESERVE_BYTES = 64 * 1024;

class DataPlaneWorker {
  readonly #start: WorkerStart;
  readonly #log: Logger;
  readonly #toMain: Ring;
  readonly #toWorker: Ring;
  readonly #registry: MetricsRegistry;
  readonly #accessLog: RingAccessLog;
  #plane: DataPlane | undefined;
  #identity: SvidSource | undefined;
  /** The latest endpoints main sent for each gossip-discovered cluster. */
  readonly #discovered = new Map<string, EndpointSpec[]>();
  /** The resolvers of the gossip-discovered clusters, which those endpoints feed. */
  readonly #resolvers = new Map<string, StaticResolver>();
  #version = 0;
  #status: Timer | undefined;
  #stopping = false;

  constructor(start: WorkerStart) {
    this.#start = start;
    const wasm = SharedWasm.attach(start.wasm);
    this.#toMain = Ring.attach(wasm, start.toMain);
    this.#toWorker = Ring.attach(wasm, start.toWorker);
    this.#log = new Logger({
      clock: systemClock,
      sink: (line) => console.error(line),
      level: start.logLevel,
      fields: { pid: Deno.pid, worker: start.index },
    });
    const storage = new SharedMetricStorage(StatsBlock.attach(wasm, start.stats));
    this.#registry = new MetricsRegistry({ storage });
    const dropped = this.#registry.counter(
      "skiff_access_log_dropped_records",
      "Access-log records lost because the sink failed, was full or was closed.",
      ["sink"],
    ).labels("worker_ring");
    // Access-log lines leave room in the ring for the reports the node relies on.
    this.#accessLog = new RingAccessLog(this.#toMain, Rec.accessLog, {
      reserveBytes: CONTROL_RESERVE_BYTES,
      onDrop: (n) => dropped.inc(n),
    });
  }

  /** Reads config versions from the ring until told to stop. */
  async run(): Promise<void> {
    const tick = () => {
      this.#report();
      if (!this.#stopping) this.#status = systemClock.setTimer(tick, STATUS_INTERVAL_MS);
    };
    this.#status = systemClock.setTimer(tick, STATUS_INTERVAL_MS);
    while (!this.#stopping) {
      // Only the newest config counts: a restarted Worker may find several versions queued
      // for its predecessor.
      let latest: Uint8Array | undefined;
      let endpoints = false;
      for (let rec = this.#toWorker.pop(); rec !== null; rec = this.#toWorker.pop()) {
        if (rec.type === Rec.config) latest = rec.payload;
        else if (rec.type === Rec.endpoints) endpoints = this.#discover(rec.payload) || endpoints;
      }
      if (latest) await this.#apply(JSON.parse(decoder.decode(latest)));
      else if (!endpoints) await this.#toWorker.waitAsync(STATUS_INTERVAL_MS);
      if (endpoints) {
        for (const [cluster, r] of this.#resolvers) {
          try {
            r.replace(this.#discovered.get(cluster) ?? []);
          } catch (err) {
            this.#log.error("discovered endpoints not applied", { cluster, err });
          }
        }
      }
    }
  }

  /** Keeps one endpoints record; a bad one is logged, never the end of a serving Worker. */
  #discover(payload: Uint8Array): boolean {
    try {
      const { cluster, endpoints } = JSON.parse(decoder.decode(payload));
      this.#discovered.set(cluster, endpoints);
      return true;
    } catch (err) {
      this.#log.error("unreadable endpoints record from main (bug)", { err });
      return false;
    }
  }

  async #apply(msg: { version: number; config: Config; shadow?: boolean }): Promise<void> {
    if (this.#plane) {
      let shadow;
      try {
        shadow = (await this.#plane.apply(msg.config, { shadow: msg.shadow !== false })).shadow;
      } catch (err) {
        this.#send(Rec.failed, {
          version: msg.version,
          error: String((err as Error)?.message),
          shadow: err instanceof ShadowRefusedError ? err.report : undefined,
        });
        return;
      }
      this.#version = msg.version;
      this.#send(Rec.ready, { version: msg.version, shadow });
      this.#report();
      return;
    }
    let mesh, secure;
    try {
      // Each Worker follows the SVID directory itself (its metrics stay out of the shared
      // block: main reports them once).
      this.#identity ??= await openIdentity(msg.config, {
        clock: systemClock,
        log: this.#log,
        registry: new MetricsRegistry(),
      });
      mesh = await meshFor(msg.config, this.#identity);
      secure = await secureFor(msg.config, this.#identity, {
        registry: this.#registry,
        log: this.#log,
        reusePort: true,
      });
    } catch (err) {
      this.#send(Rec.failed, { version: msg.version, error: String((err as Error)?.message) });
      return;
    }
    const plane = new DataPlane(msg.config, {
      clock: systemClock,
      rng: mathRng,
      log: this.#log,
      registry: this.#registry,
      accessLog: msg.config.access_log.sink === "off" ? offAccessLog : this.#accessLog,
      reusePort: true,
      worker: String(this.#start.index),
      resolver: (c) => {
        if (c.discovery.type !== "gossip") return undefined;
        // One resolver per cluster name, shared by its versions across reloads.
        let r = this.#resolvers.get(c.name);
        if (!r) {
          r = new StaticResolver(this.#discovered.get(c.name) ?? []);
          this.#resolvers.set(c.name, r);
        }
        return r;
      },
    });
    try {
      await plane.start({ mesh, secure });
    } catch (err) {
      await plane.stop();
      this.#send(Rec.failed, { version: msg.version, error: String((err as Error)?.message) });
      return;
    }
    this.#plane = plane;
    this.#version = msg.version;
    this.#send(Rec.ready, { version: msg.version });
    this.#report();
  }

  #report(): void {
    this.#send(Rec.status, { version: this.#version, clusters: this.#plane?.views() ?? [] });
  }

  #send(type: number, body: unknown): void {
    const payload = encoder.encode(JSON.stringify(body));
    if (!this.#toMain.push(type, payload, this.#start.generation)) {
      this.#log.warn("the ring to the main isolate is full; a report was dropped", { type });
    }
  }

  /** Ends the Worker at once (its connections drop); the main isolate replaces it. */
  exit(reason: string): never {
    this.#log.error("worker exiting", { reason });
    this.#send(Rec.exiting, { error: reason });
    self.close();
    throw new Error(reason); // unreachable: close() ends the Worker
  }

  /** True when the Worker was started for a supervision test. */
  get testHooks(): boolean {
    return this.#start.testHooks;
  }

  /** Closes the data plane (after draining it for up to `drainMs`) and reports `stopped`. */
  async stop(drainMs?: number): Promise<void> {
    this.#stopping = true;
    this.#status?.cancel();
    if (drainMs !== undefined) await this.#plane?.drain(drainMs);
    await this.#plane?.stop();
    await this.#accessLog.close();
    this.#send(Rec.stopped, {});
  }
}

let worker: DataPlaneWorker | undefined;

// A bug escaping as an uncaught error must not end the Worker's connections: log and go on.
self.addEventListener("error", (e) => {
  e.preventDefault();
  console.error(
    JSON.stringify({ level: "error", msg: "uncaught exception (bug)", err: String(e.error) }),
  );
});
self.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  console.error(
    JSON.stringify({ level: "error", msg: "unhandled rejection (bug)", err: String(e.reason) }),
  );
});

self.onmessage = (e: MessageEvent<WorkerStart | WorkerControl>) => {
  const msg = e.data;
  if (msg.kind === "start" && !worker) {
    const w = new DataPlaneWorker(msg);
    worker = w;
    w.run().catch((err) => w.exit(`the Worker failed: ${(err as Error)?.message ?? err}`));
  } else if (msg.kind === "stop" || msg.kind === "drain") {
    const drainMs = msg.kind === "drain" ? msg.timeoutMs : undefined;
    (worker?.stop(drainMs) ?? Promise.resolve()).finally(() => self.close());
  } else if (msg.kind === "exit" && worker?.testHooks) {
    worker.exit("exit requested by a test");
  } else if (msg.kind === "block" && worker?.testHooks) {
    // Stuck, but only for a while: Deno cannot end a Worker that never yields.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, msg.ms);
  }
};
