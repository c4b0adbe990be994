import { requireConnection } from "./_frame_checks.ts";
import type { StreamTable } from "./_stream_table.ts";
import { ErrorCode, H2ConnectionError, readU31, readU32 } from "./frame.ts";
import type { FrameWriter } from "./frame_writer.ts";

/**
 * The GOAWAY frames of one connection, both ways (RFC 9113 §6.8): whether the peer sent
 * one, whether we did, and the last stream id we announced. Once one went either way, the
 * connection opens no new streams.
 */
export class GoawayState {
  readonly #w: FrameWriter;
  readonly #streams: StreamTable;
  /** The peer sent a GOAWAY. */
  received = false;
  /** We sent a GOAWAY. */
  sent = false;
  /** The last stream id of the first GOAWAY we sent. */
  #last = 0;

  /**
   * @param w where our GOAWAY frames go
   * @param streams the connection's streams: the last one the peer opened, and ours
   */
  constructor(w: FrameWriter, streams: StreamTable) {
    this.#w = w;
    this.#streams = streams;
  }

  /** Queues a GOAWAY with `code` and `message` (debug data). */
  send(code: number, message: string): void {
    // A later GOAWAY never raises the last stream id (§6.8): streams refused since stay so.
    if (!this.sent) this.#last = this.#streams.lastPeerStream;
    this.sent = true;
    this.#w.goaway(this.#last, code, message);
  }

  /**
   * Takes a GOAWAY frame from the peer (payload `b[s, e)` on stream `id`): our streams above
   * its last stream id fail, as the peer never processed them (they may be retried elsewhere).
   *
   * @throws {H2ConnectionError} on a malformed frame
   */
  receive(id: number, b: Uint8Array, s: number, e: number): void {
    requireConnection(id, "GOAWAY");
    if (e - s < 8) throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "bad GOAWAY");
    this.received = true;
    const last = readU31(b, s);
    const code = readU32(b, s + 4);
    this.#streams.failUnprocessed(last, code);
  }
}
