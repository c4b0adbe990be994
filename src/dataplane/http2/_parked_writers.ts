import type { FrameWriter } from "./frame_writer.ts";
import type { H2Stream } from "./h2_stream.ts";

/** Bytes queued for the socket above which writers wait for it to drain. */
const WRITE_BACKPRESSURE = 1 << 20;

/**
 * Writers blocked on their connection rather than on their stream: waiting for connection
 * send window, or for the socket to drain. They all wake together when either changes or
 * the connection closes; wakes may be spurious, so each writer looks again.
 */
export class ParkedWriters {
  readonly #w: FrameWriter;
  readonly #list: H2Stream[] = [];
  #drainArmed = false;

  /** @param w the connection's writer, whose queued bytes are watched */
  constructor(w: FrameWriter) {
    this.#w = w;
  }

  /** True when too much waits for the socket: fast producers should wait for it to drain. */
  get congested(): boolean {
    return this.#w.buffered > WRITE_BACKPRESSURE;
  }

  /** Waits until the connection has news for a blocked writer (window, drain, close). */
  park(stream: H2Stream): Promise<void> {
    if (!stream.parked) {
      stream.parked = true;
      this.#list.push(stream);
    }
    return stream.waitWindow();
  }

  /** Waits like `park`, making sure that the socket draining is news. */
  parkUntilDrained(stream: H2Stream): Promise<void> {
    if (!this.#drainArmed) {
      this.#drainArmed = true;
      this.#w.drained().then(() => {
        this.#drainArmed = false;
        this.wakeAll();
      });
    }
    return this.park(stream);
  }

  /** Wakes every parked writer. */
  wakeAll(): void {
    const list = this.#list;
    for (let i = 0; i < list.length; i++) {
      list[i].parked = false;
      list[i].windowOpened();
    }
    list.length = 0;
  }
}
