import { ErrorCode, H2ConnectionError, H2StreamError, MAX_WINDOW } from "./frame.ts";
import type { H2Stream } from "./h2_stream.ts";

/**
 * The open streams of one connection and the stream identifiers both sides have used
 * (RFC 9113 §5.1, §5.1.1): ours are odd on a client and even on a server, and each side
 * opens its streams in increasing order, so an id above the last one used is idle.
 */
export class StreamTable {
  readonly #server: boolean;
  readonly #open = new Map<number, H2Stream>();
  #lastPeer = 0;
  #nextLocal: number;

  /** @param role our side of the connection */
  constructor(role: "server" | "client") {
    this.#server = role === "server";
    this.#nextLocal = this.#server ? 2 : 1;
  }

  /** Streams open now. */
  get size(): number {
    return this.#open.size;
  }

  /** The highest stream id the peer has opened. */
  get lastPeerStream(): number {
    return this.#lastPeer;
  }

  /** True while ids are left for streams of ours. */
  get idsLeft(): boolean {
    return this.#nextLocal < MAX_WINDOW;
  }

  /** The open stream `id`, if any. */
  get(id: number): H2Stream | undefined {
    return this.#open.get(id);
  }

  /** The open streams. */
  values(): IterableIterator<H2Stream> {
    return this.#open.values();
  }

  /** Takes the next id for a stream of ours. */
  nextLocalId(): number {
    const id = this.#nextLocal;
    this.#nextLocal += 2;
    return id;
  }

  /**
   * Server: notes the id of a stream the peer opens with HEADERS.
   *
   * @returns false for an id at or below one it opened before (a stream that closed since)
   * @throws {H2ConnectionError} PROTOCOL_ERROR for an even id
   */
  acceptPeerId(id: number): boolean {
    if ((id & 1) === 0) {
      throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, `bad stream id ${id}`);
    }
    if (id <= this.#lastPeer) return false;
    this.#lastPeer = id;
    return true;
  }

  /** Adds an open stream. */
  add(stream: H2Stream): void {
    this.#open.set(stream.id, stream);
  }

  /** Removes a stream that closed. */
  remove(stream: H2Stream): void {
    if (this.#open.get(stream.id) === stream) this.#open.delete(stream.id);
  }

  /** True for an id never used yet (by the side that may use it): frames on it are errors. */
  isIdle(id: number): boolean {
    const peerOpens = this.#server ? (id & 1) === 1 : (id & 1) === 0;
    return peerOpens ? id > this.#lastPeer : id >= this.#nextLocal;
  }

  /**
   * The open stream a frame `type` names, or undefined for one that closed (frames still in
   * flight on it are ignored).
   *
   * @throws {H2ConnectionError} PROTOCOL_ERROR for an idle stream
   */
  find(id: number, type: string): H2Stream | undefined {
    const stream = this.#open.get(id);
    if (stream === undefined && this.isIdle(id)) {
      throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, `${type} on an idle stream`);
    }
    return stream;
  }

  /**
   * Fails the streams of ours above `last` that a GOAWAY says the peer never processed: they
   * may be retried elsewhere.
   */
  failUnprocessed(last: number, code: number): void {
    const ours = this.#server ? 0 : 1;
    for (const st of [...this.#open.values()]) {
      if (st.id > last && (st.id & 1) === ours) {
        st.fail(
          new H2StreamError(ErrorCode.REFUSED_STREAM, `GOAWAY (code ${code}) before the stream`),
        );
      }
    }
  }

  /** Fails every open stream with an error from `error` and forgets them. */
  failAll(error: () => H2StreamError): void {
    for (const st of [...this.#open.values()]) st.fail(error());
    this.#open.clear();
  }
}
