/**
 * A hand-written HTTP/1.1 upstream for failure tests: it decides per request whether to
 * answer or to close the connection without a byte of response.
 * @module
 */
import { startTcpServer } from "../_harness/mod.ts";

/** What the raw upstream does with one request. */
export type RawAction = "answer" | "close";

/** A raw upstream and what it saw. */
export interface RawUpstream {
  port: number;
  /** Every request head seen, with the connection number and its index on that connection. */
  seen: { conn: number; index: number; head: string }[];
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const CRLF2 = "\r\n\r\n";

/**
 * Starts the raw upstream. Requests must have no body. `decide(n, index)` gets the request's
 * overall number (0-based) and its index on its connection; "answer" sends a keep-alive
 * `200 ok`, "close" closes the connection at once.
 */
export function startRawUpstream(decide: (n: number, index: number) => RawAction): RawUpstream {
  const seen: RawUpstream["seen"] = [];
  let connNo = 0;
  const answer = new TextEncoder().encode(
    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok",
  );
  // The server closes each connection when its handler returns.
  const server = startTcpServer(async (conn) => {
    const no = connNo++;
    const buf = new Uint8Array(16 * 1024);
    let text = "";
    let index = 0;
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return;
      text += new TextDecoder().decode(buf.subarray(0, n));
      for (let end = text.indexOf(CRLF2); end >= 0; end = text.indexOf(CRLF2)) {
        const head = text.slice(0, end);
        text = text.slice(end + CRLF2.length);
        const overall = seen.length;
        seen.push({ conn: no, index, head });
        if (decide(overall, index++) === "close") return;
        let off = 0;
        while (off < answer.length) off += await conn.write(answer.subarray(off));
      }
    }
  });
  return {
    port: server.port,
    seen,
    close: () => server.close(),
    [Symbol.asyncDispose]: () => server.close(),
  };
}
