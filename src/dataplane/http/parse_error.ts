/**
 * A malformed HTTP/1.x message. `status` is the response a server sends for it (400, 413,
 * 414, 431, 501, 505; 502 when an upstream's response is malformed) and `reason` a short
 * stable label used in metrics and logs.
 */
export class HttpParseError extends Error {
  override name = "HttpParseError";
  readonly status: number;
  readonly reason: string;

  /**
   * @param reason stable label such as `bare_lf`, `obs_fold`, `cl_te`, `bad_chunk_size`
   * @param message what is wrong, for logs
   * @param status the HTTP status to answer with
   */
  constructor(reason: string, message: string, status = 400) {
    super(message);
    this.reason = reason;
    this.status = status;
  }
}
