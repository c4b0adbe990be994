import { H1BodyReader } from "./h1_body_reader.ts";

/**
 * A request body read from a downstream HTTP/1.x connection that remembers why reading it
 * failed: an `HttpParseError` for a malformed body (the client's fault, answered with a
 * 4xx), or the I/O error of a client that went away. The next hop only sees the error it
 * throws, and an upstream pool reports any error as an upstream failure, so the server
 * checks `failure` before believing the handler's error reply.
 */
export class H1RequestBody extends H1BodyReader {
  /** The first error reading the body threw, or `null`. */
  failure: unknown = null;

  override takeBuffered(): Uint8Array {
    try {
      return super.takeBuffered();
    } catch (err) {
      this.failure ??= err;
      throw err;
    }
  }

  override async read(): Promise<Uint8Array | null> {
    try {
      return await super.read();
    } catch (err) {
      this.failure ??= err;
      throw err;
    }
  }
}
