import type { Body } from "./body.ts";
import { keptToHeaders } from "./h1_response_scan.ts";
import type { ProxyResponse } from "./message.ts";

/**
 * A response from an HTTP/1.1 upstream whose fields stay raw bytes until someone asks for
 * them: the HTTP/1.1-to-HTTP/1.1 path copies `rawHeaders` through; reading `headers` (route
 * header mutations, HTTP/2 downstream, gRPC status) parses them once and drops the bytes.
 */
export class H1Response implements ProxyResponse {
  status: number;
  body: Body | null;
  error?: string;
  #raw: Uint8Array | null;
  #headers: string[] | null = null;
  readonly #maxHeaders: number;

  constructor(status: number, raw: Uint8Array, body: Body | null, maxHeaders: number) {
    // raw: the end-to-end field lines, verbatim ASCII bytes, each ending in CRLF
    this.status = status;
    this.#raw = raw;
    this.body = body;
    this.#maxHeaders = maxHeaders;
  }

  get rawHeaders(): Uint8Array | null {
    return this.#raw;
  }

  /**
   * The fields, parsed from `rawHeaders` on first use.
   *
   * @throws {Error} once the head has been sent from `rawHeaders` (see `headSent`): the bytes
   * may hold another response's fields by then
   */
  get headers(): string[] {
    if (this.#headers === null) {
      if (this.#raw === null) {
        throw new Error(
          "The response head was sent from its raw field lines, which are gone: read headers before the head is written",
        );
      }
      this.#headers = keptToHeaders(this.#raw, this.#maxHeaders);
      this.#raw = null;
    }
    return this.#headers;
  }

  set headers(value: string[]) {
    this.#headers = value;
    this.#raw = null;
  }

  /** The head went out with a copy of the raw bytes: they may be reused from now on. */
  headSent(): void {
    this.#raw = null;
  }
}
