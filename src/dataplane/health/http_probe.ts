import { type Connector, denoConnect } from "../../net/connect.ts";
import { writeAll } from "../../net/conn_reader.ts";
import { dial } from "./_dial.ts";
import type { Probe } from "./probe.ts";

/** The longest status line an HTTP check reads before it fails. */
const MAX_STATUS_LINE = 1024;

/** What an HTTP health check asks for and accepts. */
export interface HttpProbeOptions {
  /** The request target, starting with `/`. */
  path: string;
  /** The host header. */
  host: string;
  /** Statuses that pass, as inclusive ranges `[low, high]`. */
  statuses: readonly (readonly [number, number])[];
}

/**
 * An HTTP health check: `GET path` over HTTP/1.1 in cleartext with `connection: close`; the
 * endpoint passes when the status of the response is one of `statuses`. Only the status
 * line is read; the connection is closed after it.
 *
 * @param options path, host header and passing statuses
 * @param connect opens TCP connections (tests pass their own)
 */
export function httpProbe(options: HttpProbeOptions, connect: Connector = denoConnect): Probe {
  const request = new TextEncoder().encode(
    `GET ${options.path} HTTP/1.1\r\nhost: ${options.host}\r\n` +
      "user-agent: skiff-health-check\r\nconnection: close\r\n\r\n",
  );
  return async (endpoint, signal) => {
    const conn = await dial(endpoint.address, signal, connect);
    const close = () => {
      try {
        conn.close();
      } catch { /* already closed */ }
    };
    signal.addEventListener("abort", close, { once: true });
    try {
      await writeAll(conn, request);
      const status = await readStatus(conn);
      if (!statusExpected(status, options.statuses)) {
        throw new Error(`status ${status} is not one of the expected statuses`);
      }
    } catch (err) {
      throw signal.aborted ? signal.reason : err; // closing on abort interrupted the read
    } finally {
      signal.removeEventListener("abort", close);
      close();
    }
  };
}

/** Reads up to the end of the status line and returns the status. */
async function readStatus(conn: Deno.Conn): Promise<number> {
  const buf = new Uint8Array(MAX_STATUS_LINE);
  let end = 0;
  for (;;) {
    const n = await conn.read(buf.subarray(end));
    if (n === null) throw new Error("the endpoint closed the connection before a status line");
    end += n;
    const status = parseStatusLine(buf.subarray(0, end));
    if (status !== undefined) return status;
    if (end === buf.length) throw new Error(`no status line in the first ${end} bytes`);
  }
}

/**
 * The status of an HTTP/1.x response from its first bytes.
 *
 * @returns the status, or undefined while the line is not complete
 * @throws {SyntaxError} when the bytes are not an HTTP/1.x status line
 * @example
 * ```ts
 * parseStatusLine(new TextEncoder().encode("HTTP/1.1 204 No Content\r\n")); // 204
 * ```
 */
export function parseStatusLine(bytes: Uint8Array): number | undefined {
  const lf = bytes.indexOf(0x0a);
  if (lf < 0) {
    if (bytes.length >= 12 && !isStatusLine(bytes.subarray(0, 12))) throw notHttp(bytes);
    return undefined;
  }
  const line = bytes.subarray(0, lf);
  if (!isStatusLine(line)) throw notHttp(bytes);
  return (line[9] - 48) * 100 + (line[10] - 48) * 10 + (line[11] - 48);
}

/** `HTTP/1.x NNN` followed by the end of the line or a space. */
function isStatusLine(line: Uint8Array): boolean {
  const text = String.fromCharCode(...line.subarray(0, 13));
  return /^HTTP\/1\.[01] [1-5]\d\d(?:[ \r]|$)/.test(text);
}

function notHttp(bytes: Uint8Array): SyntaxError {
  const start = new TextDecoder().decode(bytes.subarray(0, 24));
  return new SyntaxError(`the endpoint answered ${JSON.stringify(start)}, not HTTP/1.x`);
}

/**
 * Whether `status` falls in one of `ranges` (inclusive).
 *
 * @example
 * ```ts
 * statusExpected(204, [[200, 299]]); // true
 * ```
 */
export function statusExpected(
  status: number,
  ranges: readonly (readonly [number, number])[],
): boolean {
  for (const [low, high] of ranges) if (status >= low && status <= high) return true;
  return false;
}
