import type { LogLevel } from "../core/mod.ts";
import type { SharedWasmHandle } from "../wasm/mod.ts";

/**
 * What the main isolate and its data-plane Workers say to each other. The start message goes
 * by `postMessage` (it carries the compiled module and the shared memory); everything after
 * it goes through the two shared-memory rings each Worker has: main → Worker for config
 * versions and discovered endpoints, Worker → main for access-log lines and status reports.
 */
export const Rec = {
  /** main → Worker: JSON `{ version, config }`, the config to serve. */
  config: 1,
  /** Worker → main: one access-log line (UTF-8 JSON, no newline). */
  accessLog: 2,
  /** Worker → main, every `STATUS_INTERVAL_MS`: JSON `{ clusters: ClusterView[] }`. */
  status: 3,
  /**
   * Worker → main: JSON `{ version, shadow? }`, the config is served (listeners bound);
   * `shadow` is the Worker's shadow check of a reload (`reload.shadow`).
   */
  ready: 4,
  /** Worker → main: JSON `{ version, error, shadow? }`, the config could not be applied. */
  failed: 5,
  /** Worker → main: `{}`, the Worker closed its listeners after a `stop` message. */
  stopped: 6,
  /** Worker → main: JSON `{ error }`, the Worker is ending on its own (a fatal error). */
  exiting: 7,
  /**
   * main → Worker: JSON `{ cluster, endpoints }` (`EndpointSpec[]`), the current endpoints of
   * a cluster discovered by gossip (membership runs in main).
   */
  endpoints: 8,
} as const;

/** How often a Worker reports its status; also its heartbeat. */
export const STATUS_INTERVAL_MS = 1000;

/** The `postMessage` that starts a data-plane Worker. */
export interface WorkerStart {
  kind: "start";
  /** The Worker's index, 0 … N-1 (kept by its replacement after a restart). */
  index: number;
  /** Which launch of this index it is; sent as the version of every record. */
  generation: number;
  wasm: SharedWasmHandle;
  /** Address of the shared stats block. */
  stats: number;
  /** Address of the ring main → Worker. */
  toWorker: number;
  /** Address of the ring Worker → main. */
  toMain: number;
  logLevel: LogLevel;
  /** Honour the `exit` and `block` messages (tests of Worker supervision only). */
  testHooks: boolean;
}

/**
 * Other `postMessage`s to a Worker: close the listeners and end (`drain`: after letting
 * in-flight work finish for up to `timeoutMs`); or (tests only) end at once,
 * as a fatal error would, dropping the Worker's connections; or (tests only) block the
 * Worker's thread for `ms`, as a stuck Worker would.
 */
export type WorkerControl =
  | { kind: "stop" }
  | { kind: "drain"; timeoutMs: number }
  | { kind: "exit" }
  | { kind: "block"; ms: number };
