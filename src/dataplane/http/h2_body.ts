import type { Body } from "./body.ts";

const EMPTY = new Uint8Array(0);

/** The part of a node HTTP/2 stream (server or client side) a body reads from. */
export interface H2Readable {
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array>;
  on(
    event: "trailers",
    fn: (headers: Record<string, string | string[] | undefined>) => void,
  ): unknown;
  close(code?: number): void;
  readonly destroyed: boolean;
  readonly closed: boolean;
  readonly session?: { readonly destroyed: boolean } | undefined;
}

const NGHTTP2_CANCEL = 8;

/**
 * A body read from a `node:http2` stream, with the stream's trailers (flat, lower-case)
 * available once the body has ended.
 */
export class H2Body implements Body {
  readonly length: number;
  /** Bytes delivered so far. */
  bytes = 0;
  #done = false;
  #trailers: string[] | null = null;
  readonly #it: AsyncIterator<Uint8Array>;
  readonly #stream: H2Readable;

  /**
   * @param stream the HTTP/2 stream to read
   * @param length the content-length when announced, else -1
   * @param trailers trailers that arrived before the body was created (a client stream can
   * emit them in the same tick as the response head, before anyone awaits the head)
   */
  constructor(stream: H2Readable, length: number, trailers: string[] | null = null) {
    this.#stream = stream;
    this.length = length;
    this.#trailers = trailers;
    stream.on("trailers", (h) => (this.#trailers = flattenHeaders(h)));
    this.#it = stream[Symbol.asyncIterator]();
  }

  get done(): boolean {
    return this.#done;
  }

  takeBuffered(): Uint8Array {
    return EMPTY;
  }

  async read(): Promise<Uint8Array | null> {
    if (this.#done) return null;
    const r = await this.#it.next();
    if (r.done) {
      this.#done = true;
      return null;
    }
    this.bytes += r.value.length;
    return r.value;
  }

  trailers(): string[] | null {
    return this.#trailers;
  }

  cancel(): void {
    if (this.#done) return;
    this.#done = true;
    const st = this.#stream;
    if (!st.destroyed && !st.closed && st.session && !st.session.destroyed) {
      st.close(NGHTTP2_CANCEL);
    }
  }
}

/**
 * Turns node's header object into skiff's flat list, dropping pseudo-headers (`:path` …)
 * and fields that are connection-specific in HTTP/2.
 */
export function flattenHeaders(h: Record<string, string | string[] | undefined>): string[] {
  const out: string[] = [];
  for (const name in h) {
    if (name.charCodeAt(0) === 58 /* : */) continue;
    if (name === "connection" || name === "te" || name === "keep-alive" || name === "upgrade") {
      continue;
    }
    if (name === "transfer-encoding" || name === "proxy-connection" || name === "host") continue;
    if (name === "content-length") continue;
    const v = h[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) { for (const x of v) out.push(name, x); }
    else out.push(name, String(v));
  }
  return out;
}

/**
 * Builds node's header object from a flat list. Repeated fields are combined as HTTP
 * allows (`, ` for lists, `; ` for `cookie`); `set-cookie` stays an array because it
 * cannot be combined.
 */
export function toHeaderObject(
  flat: string[],
  into: Record<string, string | string[]> = {},
): Record<string, string | string[]> {
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i];
    const value = flat[i + 1];
    const prev = into[name];
    if (prev === undefined) into[name] = name === "set-cookie" ? [value] : value;
    else if (Array.isArray(prev)) prev.push(value);
    else into[name] = prev + (name === "cookie" ? "; " : ", ") + value;
  }
  return into;
}
