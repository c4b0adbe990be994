import type { Clock, Timer } from "../core/mod.ts";
import type { ClusterView } from "../dataplane/cluster_view.ts";
import type { Ring } from "../wasm/mod.ts";

/** What the node is waiting to hear from a Worker. */
export interface Waiter {
  /**
   * `start`: ready or failed after a launch; `config`: ready or failed after a reload sent it a
   * config version; `stop`: stopped. A Worker that ends settles any of them.
   */
  kind: "start" | "config" | "stop";
  settle: (outcome: string | null) => void;
}

/** One Worker index of a node: its current Worker, its rings and what it last reported. */
export interface Slot {
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
 * Waits for the current Worker of `slot` to start or stop, or `timeoutMs`. A wait already
 * pending is settled first (as superseded), so no promise is left hanging.
 */
export function awaitWorker(
  slot: Slot,
  kind: Waiter["kind"],
  timeoutMs: number,
  clock: Clock,
): Promise<string | null> {
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
  const timer = clock.setTimer(
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
