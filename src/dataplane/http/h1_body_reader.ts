import { concatBytes } from "../../core/concat_bytes.ts";
import type { ConnReader } from "../../net/conn_reader.ts";
import type { Body } from "./body.ts";
import { ChunkedDecoder } from "./chunked_decoder.ts";
import type { Framing } from "./h1_framing.ts";
import type { HeadLimits } from "./h1_head.ts";

const EMPTY = new Uint8Array(0);

/**
 * A body read from an HTTP/1.x connection according to its framing. When the last byte
 * has been read, `onEnd(true)` is called; `cancel()` before that calls `onEnd(false)` (the
 * connection cannot be reused). Chunked bodies are decoded; chunks are views into the
 * connection's buffer.
 */
export class H1BodyReader implements Body {
  readonly length: number;
  /** Body bytes delivered so far (decoded). */
  bytes = 0;
  #remaining: number;
  #done = false;
  readonly #reader: ConnReader;
  readonly #kind: Framing["kind"];
  readonly #chunked: ChunkedDecoder | null;
  readonly #onEnd: (clean: boolean) => void;
  readonly #maxChunkBytes: number;

  /**
   * @param reader the connection's buffered reader (positioned after the head)
   * @param framing how the body is delimited
   * @param limits head limits, used for the trailer section
   * @param onEnd called once: `true` after the last byte, `false` when cancelled or failed
   */
  constructor(
    reader: ConnReader,
    framing: Framing,
    limits: HeadLimits,
    onEnd: (clean: boolean) => void,
  ) {
    this.#reader = reader;
    this.#kind = framing.kind;
    this.length = framing.kind === "length" ? framing.length : framing.kind === "none" ? 0 : -1;
    this.#remaining = framing.length;
    this.#chunked = framing.kind === "chunked" ? new ChunkedDecoder(limits) : null;
    this.#onEnd = onEnd;
    this.#maxChunkBytes = reader.buf.length;
    if (framing.kind === "none") this.#finish();
  }

  get done(): boolean {
    return this.#done;
  }

  get inMemory(): boolean {
    return this.#done || (this.#kind === "length" && this.#reader.available >= this.#remaining);
  }

  /** Bytes still expected for a Content-Length body. */
  get remaining(): number {
    return this.#remaining;
  }

  takeBuffered(): Uint8Array {
    let chunk: Uint8Array;
    try {
      chunk = this.#takeBuffered();
    } catch (err) {
      // A framing error in a chunked body: where the next message starts is unknown.
      this.#fail();
      throw err;
    }
    this.bytes += chunk.length;
    return chunk;
  }

  #takeBuffered(): Uint8Array {
    if (this.#done || this.#reader.available === 0) return EMPTY;
    switch (this.#kind) {
      case "length": {
        const chunk = this.#reader.take(this.#remaining);
        this.#remaining -= chunk.length;
        if (this.#remaining === 0) this.#finish();
        return chunk;
      }
      case "chunked":
        return this.#decodeBuffered();
      case "close":
        return this.#reader.take();
      default:
        return EMPTY;
    }
  }

  async read(): Promise<Uint8Array | null> {
    for (;;) {
      if (this.#done) return null;
      const chunk = this.takeBuffered();
      if (chunk.length > 0) return chunk;
      if (this.#done) return null;
      let n: number;
      try {
        n = await this.#reader.fill(this.#maxChunkBytes);
      } catch (err) {
        this.#fail();
        throw err;
      }
      if (n === 0) {
        if (this.#kind === "close") {
          this.#finish();
          return null;
        }
        this.#fail();
        throw new Deno.errors.UnexpectedEof("The connection closed in the middle of a body");
      }
    }
  }

  trailers(): string[] | null {
    return this.#chunked && this.#chunked.trailers.length > 0 ? this.#chunked.trailers : null;
  }

  cancel(): void {
    if (!this.#done) this.#fail();
  }

  #decodeBuffered(): Uint8Array {
    const r = this.#reader;
    let first: Uint8Array | null = null;
    let parts: Uint8Array[] | null = null;
    const pos = this.#chunked!.decode(r.buf, r.start, r.end, (d) => {
      if (first === null) first = d;
      else (parts ??= [first]).push(d);
    });
    r.consume(pos - r.start);
    if (this.#chunked!.done) this.#finish();
    if (parts === null) return first ?? EMPTY;
    return concatBytes(parts);
  }

  #finish(): void {
    this.#done = true;
    this.#onEnd(true);
  }

  #fail(): void {
    this.#done = true;
    this.#onEnd(false);
  }
}
