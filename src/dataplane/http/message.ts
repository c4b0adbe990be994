import type { Body } from "./body.ts";

/** The wire protocol a request arrived with. */
export type HttpProtocol = "HTTP/1.0" | "HTTP/1.1" | "HTTP/2";

/**
 * A request as the proxy core sees it, independent of the protocol on either side. Header
 * names are lower-case; hop-by-hop fields and `host` are already removed (the authority is
 * separate).
 */
export interface ProxyRequest {
  method: string;
  /** Origin-form target: path and query. */
  path: string;
  authority: string;
  scheme: string;
  headers: string[];
  body: Body | null;
  protocol: HttpProtocol;
  /** Protocol requested with `Connection: upgrade` (HTTP/1.1 only), e.g. "websocket". */
  upgrade: string | null;
}

/** An upgraded (101) upstream connection handed back to the downstream side. */
export interface Upgraded {
  /** Bytes the upstream sent after the 101 head. */
  leftover: Uint8Array;
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
}

/** A response as the proxy core hands it to the downstream side. */
export interface ProxyResponse {
  status: number;
  headers: string[];
  body: Body | null;
  /** The skiff error reason for local replies (sent as `x-skiff-error`). */
  error?: string;
  /** Set for a 101 response to an upgrade request. */
  upgraded?: Upgraded;
  /**
   * The end-to-end fields as raw HTTP/1.1 field lines (ASCII bytes, each line ending in
   * CRLF), as long as nobody has looked at `headers`: an HTTP/1.1 downstream copies the bytes
   * unchanged instead of re-serialising. `null` or absent once `headers` is the truth. The
   * bytes may live in the upstream connection's scratch buffer: valid until the response head
   * is sent (`headSent`) or `headers` is read, not after.
   */
  readonly rawHeaders?: Uint8Array | null;
  /**
   * Called by the downstream side once it has copied `rawHeaders` into the head it sends: the
   * bytes may then be reused (and the fields are not needed any more).
   */
  headSent?(): void;
}

/** Returns the first value of header `name` (lower-case) in a flat list, or `undefined`. */
export function getHeader(headers: string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) return headers[i + 1];
  }
  return undefined;
}

/** Removes every field named `name` (lower-case) from a flat list, in place. */
export function removeHeader(headers: string[], name: string): void {
  let w = 0;
  for (let r = 0; r < headers.length; r += 2) {
    if (headers[r] !== name) {
      headers[w++] = headers[r];
      headers[w++] = headers[r + 1];
    }
  }
  headers.length = w;
}
