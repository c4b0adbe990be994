/**
 * The load generator of `bench/mesh_bench.sh`: full mutual-TLS handshakes per second, and one
 * bulk stream's throughput. Prints one JSON line; a run that fails says so in `error` (and the
 * process still exits), so the benchmark reports a broken path instead of hanging on it.
 *
 * ```
 * deno run -A bench/mesh/client.ts handshakes PORT SVID_DIR EXPECT_ID ALPN count|http CONC SECONDS
 * deno run -A bench/mesh/client.ts bulk PORT MIB len|eof TIMEOUT_S [SVID_DIR EXPECT_ID]
 * ```
 *
 * Handshakes: CONC loops, each opening a new connection with `node:tls` and `connectOptions`
 * (the client's SVID, TLS 1.3 only, the server's SPIFFE ID checked), sending one small request
 * and reading the answer: `count` sends 4 bytes to `count_server.ts` (answer `4\n`), `http`
 * sends `GET /` with `Connection: close` (answer a 200). No session is resumed.
 * Bulk: one connection (plain TCP, or mTLS with SVID_DIR) writes MIB MiB to `count_server.ts`
 * and waits for its byte count, which must match: `len` announces the length up front (the
 * answer comes after the last byte), `eof` half-closes instead (the answer comes only if the end
 * of stream travels through every hop). Either gives up after TIMEOUT_S seconds.
 * @module
 */
import tls from "node:tls";
import { percentile } from "../../src/demo/summary.ts";
import {
  connectOptions,
  loadSvidDir,
  SpiffeId,
  type SvidProvider,
} from "../../src/security/mod.ts";

const CONNECT_TIMEOUT_MS = 5_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `count_server.ts`'s 16-byte header: the payload length, 0 for "until end of stream". */
function header(length: number): Uint8Array {
  return encoder.encode(String(length).padEnd(16));
}

async function provider(dir: string): Promise<SvidProvider> {
  const snapshot = await loadSvidDir(dir, Date.now());
  return { current: () => snapshot };
}

/** One connection: handshake, a small request, the whole answer. Resolves with the answer. */
function exchange(
  port: number,
  source: SvidProvider,
  expect: SpiffeId,
  alpn: string,
  request: string,
  http: boolean,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      ...connectOptions(source, { expect, alpn: [alpn] }),
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS} ms`));
    }, CONNECT_TIMEOUT_MS);
    let answer = "";
    socket.setEncoding("utf8");
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    socket.on("secureConnect", () => socket.write(request));
    socket.on("data", (d: string) => {
      answer += d;
      if (!http && answer.endsWith("\n")) finish();
    });
    socket.on("end", finish);
    socket.on("error", (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
  });
}

async function handshakes(args: string[]): Promise<Record<string, unknown>> {
  const [portText, dir, expectText, alpn, proto, concText, secondsText] = args;
  const port = Number(portText);
  const source = await provider(dir);
  const expect = SpiffeId.parse(expectText);
  const http = proto === "http";
  const request = http
    ? "GET / HTTP/1.1\r\nhost: bench\r\nconnection: close\r\n\r\n"
    : `${String(4).padEnd(16)}ping`;
  const good = (answer: string) => http ? answer.startsWith("HTTP/1.1 200") : answer === "4\n";
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const end = start + Number(secondsText) * 1000;
  const loop = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        const answer = await exchange(port, source, expect, alpn, request, http);
        if (!good(answer)) {
          throw new Error(`unexpected answer ${JSON.stringify(answer.slice(0, 60))}`);
        }
        latencies.push(performance.now() - t0);
      } catch (err) {
        errors++;
        firstError ??= String(err);
        // A refusing target must not turn the loop into a busy spin.
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  };
  await Promise.all(Array.from({ length: Number(concText) }, loop));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies.length ? percentile(latencies, p * 100) : 0;
  return {
    ok: latencies.length,
    errors,
    error: latencies.length === 0 ? firstError ?? "no handshake completed" : undefined,
    first_error: firstError,
    rate: latencies.length / seconds,
    p50: pct(0.5),
    p99: pct(0.99),
  };
}

/** Resolves with the first line `read` yields (the sink's byte count), or "" at its end. */
async function firstLine(read: () => Promise<Uint8Array | null>): Promise<string> {
  let text = "";
  for (;;) {
    const chunk = await read();
    if (chunk === null) return text;
    text += decoder.decode(chunk);
    if (text.includes("\n")) return text;
  }
}

async function bulkPlain(
  port: number,
  total: number,
  chunk: Uint8Array,
  eof: boolean,
  progress: { sent: number },
): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    conn.setNoDelay(true);
    const head = header(eof ? 0 : total);
    for (let off = 0; off < head.length;) off += await conn.write(head.subarray(off));
    while (progress.sent < total) {
      progress.sent += await conn.write(
        chunk.subarray(0, Math.min(chunk.length, total - progress.sent)),
      );
    }
    if (eof) await conn.closeWrite();
    const buf = new Uint8Array(64);
    return await firstLine(async () => {
      const n = await conn.read(buf);
      return n === null ? null : buf.slice(0, n);
    });
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

function bulkTls(
  port: number,
  total: number,
  chunk: Uint8Array,
  eof: boolean,
  progress: { sent: number },
  source: SvidProvider,
  expect: SpiffeId,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      ...connectOptions(source, { expect, alpn: ["skiff-tcp"] }),
    });
    let answer = "";
    const finish = () => {
      socket.destroy();
      resolve(answer);
    };
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      answer += d;
      if (answer.includes("\n")) finish();
    });
    socket.on("end", finish);
    socket.on("error", (err) => {
      socket.destroy();
      reject(err);
    });
    socket.on("secureConnect", () => {
      socket.write(header(eof ? 0 : total));
      const pump = () => {
        while (progress.sent < total) {
          const n = Math.min(chunk.length, total - progress.sent);
          progress.sent += n;
          if (!socket.write(chunk.subarray(0, n))) return void socket.once("drain", pump);
        }
        if (eof) socket.end();
      };
      pump();
    });
  });
}

async function bulk(args: string[]): Promise<Record<string, unknown>> {
  const [portText, mibText, mode, timeoutText, dir, expectText] = args;
  const port = Number(portText);
  const total = Math.round(Number(mibText) * 1024 * 1024);
  const eof = mode === "eof";
  const chunk = new Uint8Array(256 * 1024).fill(0x5a);
  const source = dir ? await provider(dir) : undefined;
  const progress = { sent: 0 };
  const start = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const what = progress.sent < total
        ? `${progress.sent} of ${total} bytes written`
        : `all ${total} bytes written${eof ? " and the write side closed" : ""}, no count back`;
      reject(new Error(`not done within ${timeoutText} s: ${what}`));
    }, Number(timeoutText) * 1000);
  });
  try {
    const answer = await Promise.race([
      source
        ? bulkTls(port, total, chunk, eof, progress, source, SpiffeId.parse(expectText))
        : bulkPlain(port, total, chunk, eof, progress),
      deadline,
    ]);
    const seconds = (performance.now() - start) / 1000;
    if (answer.trim() !== String(total)) {
      return {
        error: `the sink counted ${JSON.stringify(answer.trim())} bytes, expected ${total}`,
      };
    }
    return { bytes: total, seconds, mbps: total / seconds / 1e6 };
  } catch (err) {
    return { error: String(err) };
  } finally {
    clearTimeout(timer);
  }
}

const [command, ...rest] = Deno.args;
const result = command === "handshakes"
  ? await handshakes(rest)
  : command === "bulk"
  ? await bulk(rest)
  : { error: `unknown command ${JSON.stringify(command)}: handshakes or bulk` };
await Deno.stdout.write(encoder.encode(JSON.stringify(result) + "\n"));
Deno.exit(0);
