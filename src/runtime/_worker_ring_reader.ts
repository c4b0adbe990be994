import type { Clock, Logger } from "../core/mod.ts";
import type { AccessLogSink } from "../telemetry/mod.ts";
import type { Slot } from "./_worker_slot.ts";
import { Rec, STATUS_INTERVAL_MS } from "./worker_protocol.ts";

const decoder = new TextDecoder();

/** What the reader needs: where access-log lines go, and whom to tell that a Worker ended. */
export interface WorkerRingReaderDeps {
  clock: Clock;
  log: Logger;
  accessLog: AccessLogSink;
  /** The current Worker of `slot` ended on its own (`Rec.exiting`). */
  ended(slot: Slot, why: string, reason: string): void;
}

/**
 * Reads the Worker → main rings of a node: access-log lines go to the access log, status
 * reports update the slot (clusters, config version served, shadow check, last heard of) and
 * settle what the node waits for.
 */
export class WorkerRingReader {
  /** The rings from the Workers are read. */
  consuming = false;
  readonly #deps: WorkerRingReaderDeps;

  constructor(deps: WorkerRingReaderDeps) {
    this.#deps = deps;
  }

  /** Reads one Worker's ring (whichever the slot has now) for as long as the node runs. */
  async consume(slot: Slot): Promise<void> {
    while (this.consuming) {
      if (!this.drain(slot)) await slot.toMain.waitAsync(STATUS_INTERVAL_MS);
    }
  }

  /** Handles every record waiting in the Worker's ring; false when there was none. */
  drain(slot: Slot): boolean {
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
      this.#deps.accessLog.writeLine(decoder.decode(payload)); // whoever wrote it, it happened
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
        this.#deps.ended(slot, `ended: ${body.error}`, "exited");
        break;
    }
  }
}
