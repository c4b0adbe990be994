import type { H2Stream } from "../http2/h2_stream.ts";
import type { Body } from "./body.ts";

/**
 * A message body received on one of skiff's HTTP/2 streams, with the stream's trailers
 * (flat, lower-case) once it has ended.
 */
export class H2Body implements Body {
  readonly length: number;
  /** Bytes delivered so far. */
  bytes = 0;
  readonly #stream: H2Stream;

  /**
   * @param stream the HTTP/2 stream to read
   * @param length the content-length when announced, else -1
   */
  constructor(stream: H2Stream, length: number) {
    this.#stream = stream;
    this.length = length;
  }

  get done(): boolean {
    return this.#stream.readDone;
  }

  takeBuffered(): Uint8Array {
    const c = this.#stream.takeBuffered();
    this.bytes += c.length;
    return c;
  }

  async read(): Promise<Uint8Array | null> {
    const c = await this.#stream.read();
    if (c !== null) this.bytes += c.length;
    return c;
  }

  trailers(): string[] | null {
    return this.#stream.trailers;
  }

  cancel(): void {
    if (!this.#stream.readDone) this.#stream.reset();
  }
}

/**
 * Splits an HTTP/2 header list into pseudo-headers (returned as an object) and regular
 * fields (appended to `out` flat), dropping fields that are connection-specific and `host`
 * (carried as the authority).
 */
export function splitPseudo(fields: string[], out: string[]): Record<string, string> {
  const pseudo: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i];
    if (name.charCodeAt(0) === 58) pseudo[name] = fields[i + 1];
    else if (name === "host") pseudo[":host"] = fields[i + 1];
    else if (name !== "content-length" && name !== "te") out.push(name, fields[i + 1]);
  }
  return pseudo;
}

const H2_FORBIDDEN = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "host",
]);

/** Appends `headers` to an HTTP/2 field list, leaving out what HTTP/2 forbids. */
export function appendH2Fields(out: string[], headers: string[]): string[] {
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    if (!H2_FORBIDDEN.has(name)) out.push(name, headers[i + 1]);
  }
  return out;
}
