import { ErrorCode, H2StreamError } from "./frame.ts";

/** What a stream needs from its connection. */
export interface StreamOwner {
  /** Sends a header block (HEADERS + CONTINUATION). */
  sendHeaders(stream: H2Stream, headers: string[], endStream: boolean): void;
  /** Sends data, waiting for flow-control window; `endStream` on the last frame. */
  sendData(stream: H2Stream, data: Uint8Array, endStream: boolean): Promise<void>;
  /** Sends RST_STREAM. */
  reset(stream: H2Stream, code: number): void;
  /**
   * `n` received bytes no longer count against the receive windows: the application
   * consumed them, or the stream let them go (then only the connection window reopens).
   */
  consumed(stream: H2Stream, n: number): void;
  /** The stream is done on both sides, or was reset. */
  streamClosed(stream: H2Stream): void;
  /** Logs a failure of the application's `onFail` callback. */
  callbackFailed(stream: H2Stream, err: unknown): void;
}

const EMPTY = new Uint8Array(0);

/**
 * One HTTP/2 stream, from either side. Received DATA queues up here for the application to
 * `read()`; sending goes through the connection, which applies flow control and batching.
 *
 * Every wait settles when the stream ends or fails: `head()` and `read()` reject with the
 * {@link H2StreamError} once the stream is reset or its connection dies (a message that
 * was received in full stays readable), and a `write()` waiting for window rejects.
 */
export class H2Stream {
  readonly id: number;
  readonly #owner: StreamOwner;
  /** Flow-control window for sending on this stream. */
  sendWindow: number;
  /** Received bytes consumed by the application, not yet returned with WINDOW_UPDATE. */
  recvUnacked = 0;
  /** Received bytes not yet returned with WINDOW_UPDATE (for the receive window). */
  recvInFlight = 0;
  /** Headers of the message received first (request on a server, response on a client). */
  headers: string[] | null = null;
  /** Trailers received after the body, if any. */
  trailers: string[] | null = null;
  /** The received message ended (END_STREAM seen). */
  remoteEnded = false;
  /** We sent END_STREAM. */
  localEnded = false;
  /** Set when the stream was reset by either side. */
  error: H2StreamError | null = null;
  /** Total DATA bytes received. */
  bytesIn = 0;
  /** @internal The received message's announced content-length, or -1 (not checked). */
  expectedLength = -1;
  /** @internal Client: the request was HEAD, so the response has no content. */
  headRequest = false;
  /** @internal Waiting in the connection's list of streams blocked on the connection. */
  parked = false;
  /** Called once if the stream is reset or its connection dies. */
  onFail: ((err: H2StreamError) => void) | null = null;
  #chunks: Uint8Array[] = [];
  #chunkAt = 0;
  #dataWake: PromiseWithResolvers<void> | null = null;
  #headWaiters: { resolve: (h: string[]) => void; reject: (e: unknown) => void }[] = [];
  #windowWake: PromiseWithResolvers<void> | null = null;
  /** Queued bytes were handed back to the connection window: reads no longer count. */
  #released = false;
  #done = false;

  constructor(id: number, owner: StreamOwner, sendWindow: number) {
    this.id = id;
    this.#owner = owner;
    this.sendWindow = sendWindow;
  }

  // ---- receiving (called by the connection) -------------------------------------------

  /** @internal The first header block arrived. */
  receiveHeaders(headers: string[], endStream: boolean): void {
    this.headers = headers;
    if (endStream) this.remoteEnded = true;
    for (const w of this.#headWaiters.splice(0)) w.resolve(headers);
    this.#wakeData();
    this.#maybeDone();
  }

  /** @internal Trailers arrived (always with END_STREAM). */
  receiveTrailers(trailers: string[]): void {
    this.trailers = trailers;
    this.remoteEnded = true;
    this.#wakeData();
    this.#maybeDone();
  }

  /** @internal A DATA payload (already copied out of the read buffer). */
  receiveData(chunk: Uint8Array, endStream: boolean): void {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.bytesIn += chunk.length;
    }
    if (endStream) this.remoteEnded = true;
    this.#wakeData();
    this.#maybeDone();
  }

  /**
   * @internal The stream was reset (by the peer, or by us, or the connection died). Data of
   * a message received in full stays readable; an incomplete one is dropped. Either way the
   * queued bytes go back to the connection's receive window at once.
   */
  fail(err: H2StreamError): void {
    if (this.error || this.#done) return;
    this.error = err;
    this.#release(!this.remoteEnded);
    const onFail = this.onFail;
    this.onFail = null;
    if (onFail) {
      try {
        onFail(err);
      } catch (cbErr) {
        this.#owner.callbackFailed(this, cbErr);
      }
    }
    for (const w of this.#headWaiters.splice(0)) w.reject(err);
    this.#wakeData();
    this.windowOpened();
    this.#finish();
  }

  /** @internal More send window, or something else a blocked writer must look at. */
  windowOpened(): void {
    const w = this.#windowWake;
    if (w === null) return;
    this.#windowWake = null;
    w.resolve();
  }

  /** @internal Waits for send window (or failure); wakes may be spurious. */
  waitWindow(): Promise<void> {
    if (this.error) return Promise.resolve();
    this.#windowWake ??= Promise.withResolvers<void>();
    return this.#windowWake.promise;
  }

  // ---- the application side ------------------------------------------------------------

  /** Resolves with the first received header block (a client's response head). */
  head(): Promise<string[]> {
    if (this.headers) return Promise.resolve(this.headers);
    if (this.error) return Promise.reject(this.error);
    return new Promise((resolve, reject) => this.#headWaiters.push({ resolve, reject }));
  }

  /** A received chunk already queued, without waiting (empty when none). */
  takeBuffered(): Uint8Array {
    if (this.#chunkAt >= this.#chunks.length) return EMPTY;
    const c = this.#chunks[this.#chunkAt++];
    if (this.#chunkAt === this.#chunks.length) {
      this.#chunks.length = 0;
      this.#chunkAt = 0;
    }
    if (!this.#released) this.#owner.consumed(this, c.length);
    return c;
  }

  /**
   * The next received chunk, `null` at the end of a complete message.
   *
   * @throws {H2StreamError} when the stream was reset before its message ended (as a
   *   rejection)
   */
  async read(): Promise<Uint8Array | null> {
    for (;;) {
      const c = this.takeBuffered();
      if (c.length > 0) return c;
      if (this.remoteEnded) return null;
      if (this.error) throw this.error;
      this.#dataWake ??= Promise.withResolvers<void>();
      await this.#dataWake.promise;
    }
  }

  /** True when every received byte has been read and the message ended. */
  get readDone(): boolean {
    return this.remoteEnded && this.#chunkAt >= this.#chunks.length;
  }

  /** Sends a header block (response head, request head, or trailers with `endStream`). */
  sendHeaders(headers: string[], endStream: boolean): void {
    if (this.error) throw this.error;
    if (this.localEnded) {
      throw new H2StreamError(ErrorCode.STREAM_CLOSED, "The stream already ended");
    }
    this.#owner.sendHeaders(this, headers, endStream);
    if (endStream) this.#endLocal();
  }

  /**
   * Sends data, respecting flow control; resolves when it is queued for the wire.
   *
   * @throws {H2StreamError} when the stream is reset or its connection dies first (as a
   *   rejection)
   */
  async write(data: Uint8Array, endStream = false): Promise<void> {
    if (this.error) throw this.error;
    if (this.localEnded) {
      throw new H2StreamError(ErrorCode.STREAM_CLOSED, "The stream already ended");
    }
    await this.#owner.sendData(this, data, endStream);
    if (endStream) this.#endLocal();
  }

  /** Ends the stream without trailers (an empty DATA frame with END_STREAM). */
  end(): Promise<void> {
    return this.write(EMPTY, true);
  }

  /**
   * Resets the stream (idempotent). On a stream already closed on both sides no frame goes
   * out; received bytes left unread are dropped.
   */
  reset(code: number = ErrorCode.CANCEL): void {
    if (this.error) return;
    if (this.#done) {
      this.#release(true);
      return;
    }
    this.#owner.reset(this, code);
    this.fail(new H2StreamError(code, `The stream was reset (code ${code})`));
  }

  /** Hands the queued bytes back to the connection window; `drop` frees them too. */
  #release(drop: boolean): void {
    if (this.#released) return;
    this.#released = true;
    let n = 0;
    for (let i = this.#chunkAt; i < this.#chunks.length; i++) n += this.#chunks[i].length;
    if (drop) {
      this.#chunks.length = 0;
      this.#chunkAt = 0;
    }
    if (n > 0) this.#owner.consumed(this, n);
  }

  #endLocal(): void {
    this.localEnded = true;
    this.#maybeDone();
  }

  #wakeData(): void {
    const w = this.#dataWake;
    if (w === null) return;
    this.#dataWake = null;
    w.resolve();
  }

  #maybeDone(): void {
    if (this.localEnded && this.remoteEnded) this.#finish();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#owner.streamClosed(this);
  }
}
