import type { Body } from "./body.ts";

const EMPTY = new Uint8Array(0);

interface Pulled {
  /** Position of the chunk in the body (0-based). */
  seq: number;
  /** The chunk (a copy when recorded), or `null` at the end. */
  chunk: Uint8Array | null;
}

/** The shared state of a recorded body: one reader of the source for every replay. */
class Recording {
  readonly source: Body;
  readonly limit: number;
  /** Copies of the first chunks, while they fit in `limit`. */
  readonly chunks: Uint8Array[] = [];
  size = 0;
  /** Chunks read from the source so far. */
  pulled = 0;
  ended = false;
  overflowed = false;
  #started = false;
  #pull: Promise<Pulled> | null = null;

  constructor(source: Body, limit: number) {
    this.source = source;
    this.limit = limit;
  }

  /** Reads the next chunk of the source; concurrent callers share one read. */
  pull(): Promise<Pulled> {
    return this.#pull ??= this.#read().finally(() => (this.#pull = null));
  }

  async #read(): Promise<Pulled> {
    let c: Uint8Array | null = EMPTY;
    if (!this.#started) {
      this.#started = true;
      c = this.source.takeBuffered();
    }
    while (c !== null && c.length === 0) c = await this.source.read();
    const seq = this.pulled;
    if (c === null) {
      this.ended = true;
      return { seq, chunk: null };
    }
    this.pulled++;
    if (this.overflowed) return { seq, chunk: c };
    if (this.size + c.length > this.limit) {
      this.overflowed = true;
      return { seq, chunk: c };
    }
    // Copy: the source may reuse its buffer for the next chunk.
    const copy = c.slice();
    this.chunks.push(copy);
    this.size += copy.length;
    return { seq, chunk: copy };
  }
}

/**
 * A request body of unknown length that is forwarded as it arrives and recorded up to a
 * limit, so that a retry can send it again (`replay()`) while streams such as gRPC calls
 * still flow without waiting for the end of the body. Once more than `limit` bytes have
 * passed, `replayable` turns false. Readers share one read of the source; a reader that
 * falls behind the recorded part fails.
 */
export class ReplayBody implements Body {
  readonly #rec: Recording;
  #next = 0;
  #done = false;

  private constructor(rec: Recording) {
    this.#rec = rec;
  }

  /**
   * Starts recording `source`; the returned body is its first reader.
   *
   * @param limit the most bytes kept for replays
   */
  static record(source: Body, limit: number): ReplayBody {
    return new ReplayBody(new Recording(source, limit));
  }

  /** True while every byte read so far is kept, so that `replay()` can send it all again. */
  get replayable(): boolean {
    return !this.#rec.overflowed;
  }

  /** A new reader from the start of the body. */
  replay(): ReplayBody {
    return new ReplayBody(this.#rec);
  }

  get length(): number {
    return this.#rec.source.length;
  }

  get done(): boolean {
    return this.#done;
  }

  takeBuffered(): Uint8Array {
    return EMPTY;
  }

  async read(): Promise<Uint8Array | null> {
    const rec = this.#rec;
    for (;;) {
      if (this.#done) return null;
      if (this.#next < rec.chunks.length) return rec.chunks[this.#next++];
      if (this.#next < rec.pulled) {
        throw new Error("The request body grew past the retry buffer and cannot be replayed");
      }
      if (rec.ended) {
        this.#done = true;
        return null;
      }
      const p = await rec.pull();
      if (p.chunk !== null && p.seq === this.#next && this.#next >= rec.chunks.length) {
        this.#next++;
        return p.chunk;
      }
    }
  }

  trailers(): string[] | null {
    return this.#rec.source.trailers();
  }

  /** Stops this reader; the source stays open for other readers (its owner cancels it). */
  cancel(): void {
    this.#done = true;
  }
}
