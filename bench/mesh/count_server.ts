/**
 * The far end of the mesh benchmark (`bench/mesh_bench.sh`): a server that counts the bytes of
 * each connection and answers with that count (decimal, `\n`), then closes. A connection starts
 * with a 16-byte header, the payload length in ASCII decimal padded with spaces; the answer goes
 * out once that many payload bytes arrived, or at the client's end of stream when the header
 * says 0. The same protocol serves the handshake runs (4 bytes in, `4\n` out) and the bulk runs
 * (256 MiB in, one line out, so the client's clock stops only once every byte arrived); length
 * 0 checks that a half-close travels through the hop.
 *
 * ```
 * deno run --allow-net bench/mesh/count_server.ts tcp PORT
 * deno run --allow-net --allow-read bench/mesh/count_server.ts tls PORT SVID_DIR
 * ```
 *
 * `tcp` is a plain `Deno.listen` sink (the floor: no proxy, no TLS). `tls` is the raw
 * `node:tls` peer of skiff's mtls listener: the same `serverOptions` (TLS 1.3 only, client
 * SVIDs required and verified against the bundle), the same `allowHalfOpen`, and the same
 * check of the client's SPIFFE ID on every connection, with no proxying behind it.
 * @module
 */
import tls from "node:tls";
import { loadSvidDir, peerSpiffeId, serverOptions } from "../../src/security/mod.ts";

const [mode, portText, svidDir] = Deno.args;
const port = Number(portText);
const encoder = new TextEncoder();
const HEADER = 16;

/** Counts a connection's bytes; `add` returns the answer once it is due, else undefined. */
class Counter {
  #seen = 0;
  #header = "";
  #expect = -1;
  #answered = false;

  add(chunk: Uint8Array): string | undefined {
    if (this.#seen < HEADER) {
      const take = Math.min(HEADER - this.#seen, chunk.length);
      this.#header += String.fromCharCode(...chunk.subarray(0, take));
      if (this.#seen + take === HEADER) this.#expect = Number(this.#header.trim());
    }
    this.#seen += chunk.length;
    return this.#expect > 0 ? this.#due(this.payload >= this.#expect) : undefined;
  }

  /** The answer at the client's end of stream, unless it went out already. */
  end(): string | undefined {
    return this.#due(true);
  }

  get payload(): number {
    return Math.max(0, this.#seen - HEADER);
  }

  #due(now: boolean): string | undefined {
    if (!now || this.#answered) return undefined;
    this.#answered = true;
    return `${this.payload}\n`;
  }
}

if (mode === "tcp") {
  for await (const conn of Deno.listen({ hostname: "127.0.0.1", port })) countTcp(conn);
} else if (mode === "tls" && svidDir) {
  const snapshot = await loadSvidDir(svidDir, Date.now());
  const server = tls.createServer({
    ...serverOptions({ current: () => snapshot }, { alpn: ["skiff-tcp"] }),
    allowHalfOpen: true,
  }, (socket) => {
    socket.on("error", () => {});
    if (!peerSpiffeId(socket)) return socket.destroy();
    const counter = new Counter();
    const answer = (reply: string | undefined) => reply !== undefined && socket.end(reply);
    socket.on("data", (d: Uint8Array) => answer(counter.add(d)));
    socket.on("end", () => answer(counter.end()) || socket.end());
  });
  server.on("tlsClientError", () => {});
  server.listen({ host: "127.0.0.1", port });
} else {
  console.error("usage: count_server.ts tcp PORT | tls PORT SVID_DIR");
  Deno.exit(2);
}

async function countTcp(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(256 * 1024);
  const counter = new Counter();
  try {
    let due: string | undefined;
    while (due === undefined) {
      const got = await conn.read(buf);
      due = got === null ? counter.end() : counter.add(buf.subarray(0, got));
    }
    const reply = encoder.encode(due);
    let off = 0;
    while (off < reply.length) off += await conn.write(reply.subarray(off));
  } catch {
    // The client went away; nothing to answer.
  } finally {
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}
