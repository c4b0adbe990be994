import type { ListenerConfig } from "../config/schema.ts";
import { Drain } from "../core/mod.ts";
import { ConnReader } from "../net/conn_reader.ts";
import { useDirectWrite } from "../net/direct_ops.ts";
import { classifyConnection } from "./_classify_connection.ts";
import { addrText, closeQuietly } from "./_conn_util.ts";
import type { ListenerDeps } from "./_listener_deps.ts";
import { serveTcp } from "./_serve_tcp.ts";
import type { ConfigVersion, ListenerVersion } from "./config_version.ts";
import type { Exchange, PeerIdentity } from "./exchange.ts";
import type { SecureAcceptor, SecureConn } from "./mesh/secure_acceptor.ts";
import type { HttpHandler } from "./http/handler.ts";
import { getHeader, type ProxyRequest, type ProxyResponse } from "./http/message.ts";
import { isGrpc } from "./http/grpc.ts";
import { rateLimitedReply } from "./http/route_policies.ts";
import { H1ServerConnection } from "./http/h1_server.ts";
import { serveH2 } from "./http/h2_server.ts";

export { addrText } from "./_conn_util.ts";
export type { ListenerDeps, ListenerEvents, ListenFn } from "./_listener_deps.ts";

const OVERFLOW = new TextEncoder().encode(
  "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\nx-skiff-error: overflow\r\n" +
    "content-length: 9\r\nconnection: close\r\n\r\noverflow\n",
);

/**
 * One bound listener: accepts connections, enforces `max_connections`, and serves each as
 * HTTP (HTTP/1.1 with skiff's codec; HTTP/2 prior knowledge handed to the HTTP/2 server), as
 * opaque TCP, or — for `auto` — whichever the first bytes show, within the detection
 * timeout. Ports listed in `server_first_ports` skip detection (the client speaks second).
 *
 * It serves its current config version (`update` switches it on a reload, keeping the
 * socket): a connection keeps the listener settings it was accepted with, each HTTP request
 * and stream holds the version current at its start until it ends, a TCP tunnel the one
 * current when it was accepted. `drain` stops accepting and asks every connection to finish.
 */
export class Listener {
  readonly name: string;
  readonly #d: ListenerDeps;
  #version: ConfigVersion;
  #lv: ListenerVersion;
  #listener: Deno.TcpListener | undefined;
  #secure: SecureAcceptor | undefined;
  #conns = new Set<Deno.Conn>();
  #accepting: Promise<void> | undefined;
  readonly #drain = new Drain();
  #drained: PromiseWithResolvers<void> | undefined;
  /** The version was given back (closed with force). */
  #closed = false;
  /** What the HTTP servers call: routes each request under the version current at its start. */
  readonly #handler: HttpHandler = {
    handle: (req: ProxyRequest, ex: Exchange): Promise<ProxyResponse> => {
      const lv = this.#lv;
      if (lv.rateLimit !== undefined) {
        const waitMs = lv.rateLimit.take();
        if (waitMs > 0) {
          this.#d.onRateLimited?.();
          const grpc = isGrpc(getHeader(req.headers, "content-type"));
          return Promise.resolve(rateLimitedReply(ex, `Listener "${this.name}"`, waitMs, grpc));
        }
      }
      ex.pinned = this.#version.retain();
      return lv.handler.handle(req, ex);
    },
    finish: (ex: Exchange): void => {
      this.#d.sink.finish(ex);
      const pinned = ex.pinned;
      if (pinned !== null) {
        ex.pinned = null;
        pinned.release();
      }
    },
  };

  /**
   * @param version the config version to serve; must have a listener called `name`
   * @param name the listener's name
   */
  constructor(version: ConfigVersion, name: string, deps: ListenerDeps) {
    this.name = name;
    this.#d = deps;
    const lv = version.listener(name);
    if (!lv) throw new RangeError(`Config version ${version.id} has no listener "${name}"`);
    this.#version = version.retain();
    this.#lv = lv;
  }

  /** The listener's settings in its current version (connections keep the ones they started with). */
  get config(): ListenerConfig {
    return this.#lv.config;
  }

  /** The version new connections and requests get. */
  get version(): ConfigVersion {
    return this.#version;
  }

  /**
   * Serves `version` from now on: new connections get its settings, new requests its routes
   * and clusters. The socket stays bound; its address and TLS mode must not differ.
   */
  update(version: ConfigVersion): void {
    const lv = version.listener(this.name);
    if (!lv) throw new RangeError(`Config version ${version.id} has no listener "${this.name}"`);
    const old = this.#version;
    this.#version = version.retain();
    this.#lv = lv;
    old.release();
  }

  /** The bound address (the actual port when the config asked for port 0). */
  get addr(): Deno.NetAddr {
    return this.#secure?.addr ?? this.#listener!.addr;
  }

  /** Open downstream connections. */
  get connections(): number {
    return this.#conns.size;
  }

  /**
   * Binds the socket and starts accepting.
   *
   * @throws (as a rejection) when the address cannot be bound
   */
  async start(): Promise<void> {
    if (this.config.tls.mode === "mtls") {
      if (!this.#d.secure) throw new Error(`listener "${this.config.name}" needs an identity`);
      // `max_connections` counts TLS connections from before their handshake: at the limit a
      // connection is closed unanswered (counted as overflow) instead of costing a handshake.
      this.#secure = await this.#d.secure(this.config, {
        maxConnections: () => this.config.limits.max_connections,
        onOverflow: () => this.#d.events.onOverflow(),
      });
      this.#accepting = this.#acceptSecure(this.#secure);
      return;
    }
    const a = this.config.address;
    const opts = { hostname: a.hostname, port: a.port, transport: "tcp" as const };
    const listen = this.#d.listen ?? Deno.listen;
    this.#listener = listen(
      this.#d.reusePort
        ? { ...opts, reusePort: true } as Deno.TcpListenOptions & typeof opts
        : opts,
    );
    this.#accepting = this.#acceptLoop();
  }

  /**
   * Stops accepting and asks every connection to finish: HTTP/1.1 ones close after their
   * response in flight (or once idle for `drain.idle_timeout`), HTTP/2 ones get GOAWAY, TCP
   * tunnels and upgraded connections run until they end. Resolves when no connection is left;
   * `close(true)` ends the rest at a deadline.
   */
  drain(): Promise<void> {
    if (!this.#drained) {
      const drained = this.#drained = Promise.withResolvers<void>();
      this.#stopAccepting();
      // Connections are asked to finish only once the listening socket is closed. The runtime
      // closes it when the cancelled accept has ended (a turn of the event loop later); a
      // client answered `connection: close` before that reconnects into its accept queue,
      // which is reset when it closes (a hot restart's handover where tcp_migrate_req is 0).
      this.unbound().then(() => {
        this.#drain.start();
        if (this.#conns.size === 0) drained.resolve();
      });
    }
    return this.#drained.promise;
  }

  /**
   * Resolves once the listening socket is closed (after `drain` or `close` stopped accepting):
   * the runtime closes it when the cancelled accept has ended, a turn later, and only then
   * can another socket bind its address without SO_REUSEPORT.
   */
  unbound(): Promise<void> {
    return this.#accepting?.then(() => {}, () => {}) ?? Promise.resolve();
  }

  /** Open connections (for the drain's progress). */
  get openConnections(): number {
    return this.#conns.size;
  }

  /** Stops accepting; with `force`, also closes open connections. Releases the version. */
  async close(force = true): Promise<void> {
    this.#stopAccepting();
    if (force) {
      for (const c of this.#conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    }
    await this.#accepting;
    if (force && !this.#closed) {
      this.#closed = true;
      this.#version.release();
    }
  }

  #stopAccepting(): void {
    try {
      this.#listener?.close();
    } catch { /* closed */ }
    this.#secure?.close();
  }

  async #acceptLoop(): Promise<void> {
    const l = this.#listener!;
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await l.accept();
      } catch (err) {
        if (err instanceof Deno.errors.BadResource || err instanceof Deno.errors.Interrupted) {
          return;
        }
        this.#d.log.warn("accept failed", { err, listener: this.config.name });
        continue;
      }
      this.#admit(conn, () => this.#serve(conn));
    }
  }

  /** Serves `conn` with `serve` unless `max_connections` are open (then it is refused). */
  #admit(conn: Deno.TcpConn, serve: () => Promise<void>): void {
    if (this.#conns.size >= this.config.limits.max_connections) {
      this.#d.events.onOverflow();
      this.#refuse(conn);
      return;
    }
    this.#conns.add(conn);
    this.#d.events.onConnection(1);
    serve().finally(() => {
      this.#conns.delete(conn);
      this.#d.events.onConnection(-1);
      if (this.#conns.size === 0) this.#drained?.resolve();
    });
  }

  /** Accepts mutual-TLS connections: ALPN (or detection) picks HTTP/2, HTTP/1.1 or TCP. */
  async #acceptSecure(acceptor: SecureAcceptor): Promise<void> {
    for (let c = await acceptor.accept(); c !== null; c = await acceptor.accept()) {
      // SocketConn does all that skiff's HTTP and TCP code does with a Deno.Conn.
      const conn = c.conn as Deno.TcpConn;
      this.#admit(conn, () => this.#serveSecure(conn, c));
    }
  }

  async #serveSecure(conn: Deno.TcpConn, c: SecureConn): Promise<void> {
    const remote = addrText(conn.remoteAddr);
    const reader = new ConnReader(conn, 8 * 1024);
    if (this.config.protocol === "tcp") {
      this.#d.events.onDetected("tcp");
      return await serveTcp(this.#d, this.name, this.#version, conn, reader, remote, c.peer);
    }
    const kind = c.alpn === "h2"
      ? "http2"
      : c.alpn === "http/1.1"
      ? "http1"
      : await classifyConnection(conn, reader, this.config, this.#d);
    this.#d.events.onDetected(kind);
    if (kind === "http2") return await this.#serveHttp2(conn, reader, remote, c.peer);
    if (kind === "http1" || kind === "tcp") {
      return await this.#serveHttp1(conn, reader, remote, c.peer);
    }
    return closeQuietly(conn);
  }

  #refuse(conn: Deno.TcpConn): void {
    const write = this.config.protocol === "tcp" ? Promise.resolve(0) : conn.write(OVERFLOW);
    write.catch(() => 0).finally(() => {
      try {
        conn.close();
      } catch { /* closed */ }
    });
  }

  async #serve(conn: Deno.TcpConn): Promise<void> {
    try {
      conn.setNoDelay(true);
    } catch { /* closed already */ }
    useDirectWrite(conn);
    const remote = addrText(conn.remoteAddr);
    const reader = new ConnReader(conn, 8 * 1024);
    const kind = await classifyConnection(conn, reader, this.config, this.#d);
    this.#d.events.onDetected(kind);
    switch (kind) {
      case "http1":
        return await this.#serveHttp1(conn, reader, remote);
      case "http2":
        return await this.#serveHttp2(conn, reader, remote);
      case "tcp":
        return await serveTcp(this.#d, this.name, this.#version, conn, reader, remote);
      default:
        return closeQuietly(conn);
    }
  }

  async #serveHttp1(
    conn: Deno.TcpConn,
    reader: ConnReader,
    remote: string,
    peer?: PeerIdentity,
  ): Promise<void> {
    const cfg = this.config;
    const d = this.#d;
    const server = new H1ServerConnection(conn, reader, remote, {
      listener: cfg.name,
      limits: {
        maxHeadBytes: cfg.limits.max_request_header_bytes,
        maxHeaders: cfg.limits.max_request_headers,
      },
      idleTimeoutMs: cfg.timeouts.idle,
      headersTimeoutMs: cfg.timeouts.request_headers,
      requestTimeoutMs: cfg.timeouts.request,
      clock: d.clock,
      wheel: d.wheel,
      log: d.log,
      handler: this.#handler,
      onMalformed: (reason) => d.events.onMalformed(reason),
      onTimeout: (which) => d.events.onTimeout(which),
      peer,
      drain: this.#drain,
      drainIdleTimeoutMs: this.#version.config.drain.idle_timeout,
    });
    await server.serve();
  }

  async #serveHttp2(
    conn: Deno.TcpConn,
    reader: ConnReader,
    remote: string,
    peer?: PeerIdentity,
  ): Promise<void> {
    const cfg = this.config;
    const d = this.#d;
    await serveH2(conn, reader, remote, {
      listener: cfg.name,
      clock: d.clock,
      wheel: d.wheel,
      log: d.log,
      handler: this.#handler,
      idleTimeoutMs: cfg.timeouts.idle,
      maxHeaderListSize: cfg.limits.max_request_header_bytes,
      onMalformed: (reason) => d.events.onMalformed(reason),
      peer,
      drain: this.#drain,
    });
  }
}
