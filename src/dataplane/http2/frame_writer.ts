import { writeAll } from "../../net/conn_reader.ts";
import { Flag, FRAME_HEADER, FrameType, writeFrameHeader, writeU32 } from "./frame.ts";

/** True for frames that carry no message content (not DATA, HEADERS or CONTINUATION). */
function isControl(type: number): boolean {
  return type !== FrameType.DATA && type !== FrameType.HEADERS &&
    type !== FrameType.CONTINUATION;
}

/**
 * Serialises HTTP/2 frames into a connection buffer and writes them in batches: every frame
 * queued in the same turn of the event loop goes out in one `write`, across streams. Frame
 * payloads are copied in at once, so callers may reuse their buffers immediately. Two
 * buffers alternate (one being written, one filling) so nothing is allocated per frame.
 *
 * Control frames not yet written are counted ({@link FrameWriter.controlBacklog}) so that
 * the connection can stop a peer that makes us answer (PING, SETTINGS, resets) without
 * reading the answers. Once a write has failed, new frames are dropped.
 */
export class FrameWriter {
  readonly #conn: { write(p: Uint8Array): Promise<number> };
  #buf = new Uint8Array(64 * 1024);
  #spare = new Uint8Array(64 * 1024);
  #len = 0;
  /** Control frames in `#buf`, and in the buffer being written. */
  #ctrl = 0;
  #ctrlInFlight = 0;
  #writing = false;
  #scheduled = false;
  #failed: unknown = null;
  #drainWaiters: (() => void)[] = [];
  readonly #onError: (err: unknown) => void;

  /**
   * @param conn where the bytes go
   * @param onError called once when a write fails (the connection is then dead)
   */
  constructor(conn: { write(p: Uint8Array): Promise<number> }, onError: (err: unknown) => void) {
    this.#conn = conn;
    this.#onError = onError;
  }

  /** Bytes queued and not yet handed to the kernel. */
  get buffered(): number {
    return this.#len;
  }

  /** Control frames queued or being written, not yet handed to the kernel in full. */
  get controlBacklog(): number {
    return this.#ctrl + this.#ctrlInFlight;
  }

  /** True once a write has failed. */
  get failed(): boolean {
    return this.#failed !== null;
  }

  /** Queues raw bytes (the client preface). */
  raw(bytes: Uint8Array): void {
    const at = this.#reserve(bytes.length);
    this.#buf.set(bytes, at);
    this.#schedule();
  }

  /**
   * Queues one frame; the payload is `payload[start, end)`, copied now.
   */
  frame(
    type: number,
    flags: number,
    streamId: number,
    payload: Uint8Array | null = null,
    start = 0,
    end = payload ? payload.length : 0,
  ): void {
    const at = this.#begin(type, flags, streamId, end - start);
    if (end > start) this.#buf.set(payload!.subarray(start, end), at);
    this.#schedule();
  }

  /**
   * Queues a frame whose payload the caller writes in place: returns the buffer and the
   * offset of the payload (valid until the next call).
   */
  frameInPlace(
    type: number,
    flags: number,
    streamId: number,
    length: number,
  ): [Uint8Array, number] {
    const at = this.#begin(type, flags, streamId, length);
    this.#schedule();
    return [this.#buf, at];
  }

  /** Queues a frame whose payload is one 32-bit value (RST_STREAM, WINDOW_UPDATE). */
  u32Frame(type: number, flags: number, streamId: number, value: number): void {
    const at = this.#begin(type, flags, streamId, 4); // may grow `#buf`: call it first
    writeU32(this.#buf, at, value);
    this.#schedule();
  }

  /**
   * Queues an encoded header block on a stream: one HEADERS frame, or a HEADERS frame and
   * CONTINUATION frames of at most `maxFrame` octets each (RFC 9113 §4.3).
   */
  headers(streamId: number, block: Uint8Array, endStream: boolean, maxFrame: number): void {
    let flags = endStream ? Flag.END_STREAM : 0;
    if (block.length <= maxFrame) {
      this.frame(FrameType.HEADERS, flags | Flag.END_HEADERS, streamId, block);
      return;
    }
    this.frame(FrameType.HEADERS, flags, streamId, block, 0, maxFrame);
    for (let at = maxFrame; at < block.length; at += maxFrame) {
      const end = Math.min(block.length, at + maxFrame);
      flags = end === block.length ? Flag.END_HEADERS : 0;
      this.frame(FrameType.CONTINUATION, flags, streamId, block, at, end);
    }
  }

  /**
   * Queues GOAWAY (RFC 9113 §6.8) with the last stream id, the error code and the first 200
   * characters of `message` as debug data.
   */
  goaway(lastStream: number, code: number, message: string): void {
    const debug = new TextEncoder().encode(message.slice(0, 200));
    const [buf, at] = this.frameInPlace(FrameType.GOAWAY, 0, 0, 8 + debug.length);
    writeU32(buf, at, lastStream);
    writeU32(buf, at + 4, code);
    buf.set(debug, at + 8);
  }

  /** Resolves once everything queued so far has been written (or the connection failed). */
  drained(): Promise<void> {
    if ((this.#len === 0 || this.#failed !== null) && !this.#writing) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Reserves a frame and writes its header; returns where its payload goes in `#buf`. */
  #begin(type: number, flags: number, streamId: number, length: number): number {
    const at = this.#reserve(FRAME_HEADER + length);
    writeFrameHeader(this.#buf, at, length, type, flags, streamId);
    if (isControl(type)) this.#ctrl++;
    return at + FRAME_HEADER;
  }

  #reserve(n: number): number {
    // After a failed write nothing goes out: keep overwriting the start of the buffer.
    if (this.#failed !== null) this.#len = this.#ctrl = 0;
    const need = this.#len + n;
    if (need > this.#buf.length) {
      let size = this.#buf.length * 2;
      while (size < need) size *= 2;
      const bigger = new Uint8Array(size);
      bigger.set(this.#buf.subarray(0, this.#len));
      this.#buf = bigger;
    }
    const at = this.#len;
    this.#len = need;
    return at;
  }

  #schedule(): void {
    if (this.#scheduled || this.#writing || this.#failed !== null) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#flush());
  }

  async #flush(): Promise<void> {
    this.#scheduled = false;
    if (this.#writing || this.#failed !== null) return;
    this.#writing = true;
    try {
      while (this.#len > 0) {
        // Swap: the filled buffer goes to the kernel, the spare one takes new frames.
        const out = this.#buf;
        const n = this.#len;
        this.#buf = this.#spare.length >= out.length ? this.#spare : new Uint8Array(out.length);
        this.#spare = out;
        this.#len = 0;
        this.#ctrlInFlight = this.#ctrl;
        this.#ctrl = 0;
        await writeAll(this.#conn, out.subarray(0, n));
        this.#ctrlInFlight = 0;
      }
    } catch (err) {
      this.#failed = err ?? new Error("write failed");
      this.#len = this.#ctrl = this.#ctrlInFlight = 0;
      this.#onError(err);
    } finally {
      this.#writing = false;
      for (const w of this.#drainWaiters.splice(0)) w();
    }
  }
}
