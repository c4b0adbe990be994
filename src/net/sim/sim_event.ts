/** `SimEvent.kind` of a packet arriving at `node` from `from`. */
export const PACKET = 0;
/** `SimEvent.kind` of a callback (timer, stream delivery) run on behalf of `node`. */
export const CALL = 1;

/**
 * One entry of the simulator's event queue. Events are ordered by `at`, then by `seq` (the
 * order they were scheduled in), so ties break the same way on every run.
 */
export class SimEvent {
  /** Set by `cancel()`; a cancelled event is skipped when it reaches the head of the queue. */
  cancelled = false;
  constructor(
    /** Virtual time (ms) at which the event runs. */
    public at: number,
    /** Tie-breaker: the network's schedule counter when the event was (re)queued. */
    public seq: number,
    /** `PACKET` or `CALL`. */
    readonly kind: number,
    /** Index of the node the event happens to (its stall and kill state gate it), or -1. */
    readonly node: number,
    /** That node's generation when scheduled: a restarted node ignores older events. */
    readonly gen: number,
    /** For packets: index of the sending node. */
    readonly from: number,
    /** For packets: the bytes. */
    readonly data: Uint8Array | null,
    /** For calls: what to run. */
    readonly fn: (() => void) | null,
  ) {}

  /** Stops the event from running; idempotent. */
  cancel(): void {
    this.cancelled = true;
  }
}
