import type { H2Stream } from "./h2_stream.ts";
import {
  type FieldInfo,
  validateRequest,
  validateResponse,
  validateTrailers,
} from "./validate_fields.ts";

/**
 * Rules for a decoded header block given the state of its stream (RFC 9113 §8.1, §8.3).
 * Each returns why the block is malformed (its stream then ends with RST_STREAM
 * PROTOCOL_ERROR, or a server answers 400), or "" when it is well-formed. `tooLarge` means
 * the block decoded past the header list size limit, leaving its fields empty. One instance
 * serves a connection, reusing its scratch {@link FieldInfo}.
 */
export class HeadChecks {
  readonly #info: FieldInfo = { contentLength: -1 };

  /**
   * Server: checks a request head and notes the body length it announces on `stream`.
   *
   * @returns the reason the request is malformed, or ""
   */
  request(stream: H2Stream, fields: string[], endStream: boolean, tooLarge: boolean): string {
    const info = this.#info;
    const reason = tooLarge ? "headers_too_large" : validateRequest(fields, info);
    if (reason) return reason;
    stream.expectedLength = info.contentLength;
    return endStream && info.contentLength > 0 ? "content_length_mismatch" : "";
  }

  /**
   * Client: checks a response head and notes the body length it announces on `stream` (none
   * after HEAD, 204 or 304).
   *
   * @returns the reason the response is malformed, "" when it is well-formed, or null for
   *   an interim (1xx) head, which is dropped
   */
  response(
    stream: H2Stream,
    fields: string[],
    endStream: boolean,
    tooLarge: boolean,
  ): string | null {
    const info = this.#info;
    const reason = tooLarge ? "headers_too_large" : validateResponse(fields, info);
    if (reason) return reason;
    const status = Number(fields[1]);
    if (status < 200) {
      // Interim responses are dropped; one that ends the stream, or 101, is malformed
      // (§8.1, §8.6).
      return endStream || status === 101 ? "bad_interim_response" : null;
    }
    const bodyless = stream.headRequest || status === 204 || status === 304;
    stream.expectedLength = bodyless ? -1 : info.contentLength;
    return endStream && stream.expectedLength > 0 ? "content_length_mismatch" : "";
  }

  /**
   * Checks trailers: they end the stream, carry no pseudo-header fields, and follow a body
   * of the announced content-length.
   *
   * @returns the reason the trailers are malformed, or ""
   */
  trailers(stream: H2Stream, fields: string[], endStream: boolean, tooLarge: boolean): string {
    if (!endStream) return "trailers_without_end_stream";
    if (tooLarge) return "trailers_too_large";
    return validateTrailers(fields, this.#info) ||
      (stream.expectedLength >= 0 && stream.bytesIn !== stream.expectedLength
        ? "content_length_mismatch"
        : "");
  }
}
