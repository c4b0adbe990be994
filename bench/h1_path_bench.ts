/**
 * The JavaScript cost of one proxied HTTP/1.1 request, without the kernel: skiff's real
 * server, router, proxy core, pool and codec run against in-memory connections that hand
 * out canned request and response bytes. What is left is what skiff's own code spends per
 * request (parsing, routing, header rewriting, pooling, metrics) — the part that decides how
 * close the proxy gets to nginx once syscalls are equal.
 *
 * ```
 * deno bench --allow-all bench/h1_path_bench.ts
 * ```
 * @module
 */
import { parseConfig } from "../src/config/mod.ts";
import { silentLogger, systemClock, TimerWheel } from "../src/core/mod.ts";
import { ConnReader } from "../src/net/conn_reader.ts";
import { StaticResolver } from "../src/discovery/mod.ts";
import { ClusterRuntime } from "../src/dataplane/cluster.ts";
import { H1ServerConnection } from "../src/dataplane/http/h1_server.ts";
import { HttpProxy } from "../src/dataplane/http/proxy.ts";
import { RouteHandler } from "../src/dataplane/http/route_handler.ts";
import { Router } from "../src/dataplane/http/router.ts";
import { H1Pool } from "../src/dataplane/pool/h1_pool.ts";
import { DataplaneStats } from "../src/dataplane/stats.ts";
import { MetricsRegistry, offAccessLog, SharedMetricStorage } from "../src/telemetry/mod.ts";
import { SharedWasm, StatsBlock } from "../src/wasm/mod.ts";

const REQUEST = new TextEncoder().encode(
  "GET /hello HTTP/1.1\r\nHost: 127.0.0.1:10000\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n",
);
const RESPONSE = new TextEncoder().encode(
  "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Fri, 27 Nov 2026 09:00:00 GMT\r\n" +
    "Content-Type: text/plain\r\nContent-Length: 20\r\nConnection: keep-alive\r\n\r\n" +
    "hello from upstream\n",
);

/** A connection that answers every write with one canned reply (like a keep-alive peer). */
class EchoPeer {
  #queue = 0;
  #waiter: ((n: number | null) => void) | null = null;
  #target: Uint8Array | null = null;
  closed = false;
  constructor(readonly reply: Uint8Array) {}
  read(p: Uint8Array): Promise<number | null> {
    if (this.closed) return Promise.resolve(null);
    if (this.#queue > 0) {
      this.#queue--;
      p.set(this.reply);
      return Promise.resolve(this.reply.length);
    }
    return new Promise((r) => {
      this.#waiter = r;
      this.#target = p;
    });
  }
  write(p: Uint8Array): Promise<number> {
    const w = this.#waiter;
    if (w) {
      this.#waiter = null;
      this.#target!.set(this.reply);
      w(this.reply.length);
    } else this.#queue++;
    return Promise.resolve(p.length);
  }
  closeWrite(): Promise<void> {
    return Promise.resolve();
  }
  close(): void {
    this.closed = true;
    this.#waiter?.(null);
  }
  setNoDelay(): void {}
}

/** The client side: feeds `n` requests one after another, resolving when all answered. */
class Client {
  remaining: number;
  #waiter: ((n: number | null) => void) | null = null;
  #target: Uint8Array | null = null;
  #sent = false;
  done: () => void = () => {};
  constructor(n: number) {
    this.remaining = n;
  }
  read(p: Uint8Array): Promise<number | null> {
    if (this.remaining === 0) return Promise.resolve(null);
    if (!this.#sent) {
      this.#sent = true;
      p.set(REQUEST);
      return Promise.resolve(REQUEST.length);
    }
    return new Promise((r) => {
      this.#waiter = r;
      this.#target = p;
    });
  }
  write(p: Uint8Array): Promise<number> {
    this.remaining--;
    if (this.remaining === 0) {
      this.done();
      this.#waiter?.(null);
    } else if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = null;
      this.#target!.set(REQUEST);
      w(REQUEST.length);
    } else this.#sent = false;
    return Promise.resolve(p.length);
  }
  closeWrite(): Promise<void> {
    return Promise.resolve();
  }
  close(): void {}
  setNoDelay(): void {}
}

const config = parseConfig(
  `listeners:
  - name: bench
    address: 127.0.0.1:0
    routes: [{ name: all, match: { prefix: / }, cluster: up }]
clusters:
  - name: up
    endpoints: [{ address: 127.0.0.1:1 }]
`,
  "bench.yaml",
);
const clock = systemClock;
const log = silentLogger(clock);
const wheel = new TimerWheel(clock, 10);
const l = config.listeners[0];

/**
 * The data plane of one listener over in-memory connections, with its metrics in `registry`.
 * Returns a function that serves `n` keep-alive requests on one in-memory connection.
 */
function dataPlane(registry: MetricsRegistry): (n: number) => Promise<void> {
  const stats = new DataplaneStats(registry, offAccessLog);
  const clusters = new Map<string, ClusterRuntime>();
  const c = config.clusters[0];
  clusters.set(
    c.name,
    new ClusterRuntime(c, new StaticResolver(c.endpoints), {
      rng: Math.random,
      clock,
      pools: (ep) =>
        new H1Pool(ep.address, {
          maxConnections: 10,
          maxPendingRequests: 10,
          maxRequestsPerConnection: 0,
          idleTimeoutMs: 60_000,
          connectTimeoutMs: 1_000,
        }, {
          wheel,
          now: () => clock.monotonic(),
          connect: () => Promise.resolve(new EchoPeer(RESPONSE) as unknown as Deno.TcpConn),
        }),
      counters: stats.clusterCounters(c.name),
    }),
  );
  const proxy = new HttpProxy({ clusters, clock, wheel, rng: Math.random, log });
  const handler = new RouteHandler(new Router(l.routes), proxy, stats, log);
  return async (n) => {
    const client = new Client(n);
    const conn = client as unknown as Deno.Conn;
    const server = new H1ServerConnection(conn, new ConnReader(conn, 8192), "127.0.0.1:5555", {
      listener: l.name,
      limits: { maxHeadBytes: 65536, maxHeaders: 100 },
      idleTimeoutMs: 60_000,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 60_000,
      clock,
      wheel,
      log,
      handler,
      onMalformed: () => {},
      onTimeout: () => {},
    });
    await server.serve();
  };
}

/** Serves `n` keep-alive requests through the real data plane, metrics on the isolate's heap. */
export const serve = dataPlane(new MetricsRegistry());
/** The same with node mode's metrics: every update an atomic add in the shared stats block. */
const serveShared = dataPlane(
  new MetricsRegistry({
    storage: new SharedMetricStorage(
      StatsBlock.create(SharedWasm.create(), { maxSeries: 1024, maxCells: 16384, keyBytes: 65536 }),
    ),
  }),
);

await serve(1000); // warm up the JIT
await serveShared(1000);

Deno.bench(
  "proxied HTTP/1.1 request, all JS (1000 keep-alive requests per iteration)",
  async () => {
    await serve(1000);
  },
);

Deno.bench(
  "proxied HTTP/1.1 request, all JS, metrics in the shared stats block (node mode)",
  async () => {
    await serveShared(1000);
  },
);
