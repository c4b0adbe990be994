/**
 * A message body moving through the proxy, pulled chunk by chunk by the next hop. Chunks
 * may be views into a reused buffer: a chunk is valid only until the next `read`.
 */
export interface Body {
  /** Total length in bytes when known in advance (Content-Length), else -1. */
  readonly length: number;
  /** Data already buffered that can be taken without waiting (empty when none). */
  takeBuffered(): Uint8Array;
  /** The next chunk, or `null` at the end. */
  read(): Promise<Uint8Array | null>;
  /** True once every byte was read. */
  readonly done: boolean;
  /**
   * True when the rest of the body is already in memory, so that taking or reading it never
   * waits (absent: unknown).
   */
  readonly inMemory?: boolean;
  /** Trailer fields (flat, lower-cased names) after the end, if the message had any. */
  trailers(): string[] | null;
  /** Gives up on the rest; the source connection is closed if it cannot be reused. */
  cancel(): void;
}

const EMPTY = new Uint8Array(0);

/** A body held entirely in memory; `replay()` gives a fresh reader for a retry. */
export class BufferedBody implements Body {
  readonly length: number;
  #taken = false;
  readonly #trailers: string[] | null;

  constructor(readonly bytes: Uint8Array, trailers: string[] | null = null) {
    this.length = bytes.length;
    this.#trailers = trailers;
  }

  get done(): boolean {
    return this.#taken;
  }

  get inMemory(): boolean {
    return true;
  }

  takeBuffered(): Uint8Array {
    if (this.#taken) return EMPTY;
    this.#taken = true;
    return this.bytes;
  }

  read(): Promise<Uint8Array | null> {
    const chunk = this.takeBuffered();
    return Promise.resolve(chunk.length > 0 ? chunk : null);
  }

  trailers(): string[] | null {
    return this.#trailers;
  }

  cancel(): void {
    this.#taken = true;
  }

  /** A new unread body over the same bytes. */
  replay(): BufferedBody {
    return new BufferedBody(this.bytes, this.#trailers);
  }
}

/**
 * Reads a whole body into memory, up to `limit` bytes.
 *
 * @returns the buffered body, or `null` when it is longer than `limit` (the bytes read so
 * far are lost, so only call this when the length is known to fit or the body can be dropped)
 */
export async function bufferBody(body: Body, limit: number): Promise<BufferedBody | null> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for (let c: Uint8Array | null = body.takeBuffered(); c !== null; c = await body.read()) {
    if (c.length === 0) continue;
    size += c.length;
    if (size > limit) return null;
    parts.push(c.slice());
  }
  const all = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  return new BufferedBody(all, body.trailers());
}
