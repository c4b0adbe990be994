import type net from "node:net";
import tls from "node:tls";
import type { SocketAddress } from "../../config/address.ts";
import { SocketConn } from "../../net/socket_conn.ts";
import { peerSpiffeId, serverOptions, type SvidProvider } from "../../security/mtls.ts";
import type { SpiffeId } from "../../security/spiffe_id.ts";
import type { ConnectionGate } from "./secure_acceptor.ts";

/** An accepted mutual-TLS connection: bytes, plus who is on the other side. */
export interface MtlsConn {
  conn: SocketConn;
  /** The client's SPIFFE ID, from its verified X.509-SVID. */
  peer: SpiffeId;
  /** The ALPN protocol agreed (`h2`, `http/1.1`, a skiff TCP id), or false for none. */
  alpn: string | false;
}

/** Options of `MtlsAcceptor.listen`. */
export interface MtlsAcceptorOptions {
  address: SocketAddress;
  source: SvidProvider;
  /** ALPN ids offered to clients, most preferred first. */
  alpn: string[];
  /** Most time a client may take to finish its handshake (default 10 s). */
  handshakeTimeoutMs?: number;
  /** Bind with SO_REUSEPORT (several Workers on one port). */
  reusePort?: boolean;
  /** Told of every refused handshake, with a reason fit for a metric label. */
  onRefused?: (reason: string, remote: string) => void;
  /** The listener's connection limit, checked before the handshake (none when absent). */
  gate?: ConnectionGate;
}

/**
 * The accepting side of a mesh hop: a TLS 1.3 server that requires a client certificate
 * chaining to the trust bundle and holding a valid SPIFFE ID, and hands out each connection
 * it accepts as a `SocketConn` with the peer's identity, for skiff's HTTP/1.1, HTTP/2 and TCP
 * code to serve. The server certificate and bundle are the provider's current ones at every
 * handshake (rotation never drops open connections). Refused handshakes are reported by
 * reason: `no_client_cert`, `untrusted` (chain or validity), `not_svid`, `handshake_timeout`,
 * `client_aborted` (the client sent an alert, e.g. it does not trust us), `handshake_aborted`
 * (what Deno reports for a client certificate that fails verification), `protocol` (e.g. TLS
 * 1.2), or the TLS error code.
 */
export class MtlsAcceptor {
  readonly #server: tls.Server;
  readonly #ready: MtlsConn[] = [];
  /** TCP connections open: in their handshake, waiting in `#ready`, or handed out. */
  #open = 0;
  #waiting: ((c: MtlsConn | null) => void) | null = null;
  #closed = false;

  private constructor(server: tls.Server) {
    this.#server = server;
  }

  /**
   * Binds `address` and starts accepting.
   *
   * @throws (as a rejection) the bind error, e.g. address in use
   */
  static listen(opts: MtlsAcceptorOptions): Promise<MtlsAcceptor> {
    const server = tls.createServer({
      ...serverOptions(opts.source, { alpn: opts.alpn }),
      allowHalfOpen: true,
      handshakeTimeout: opts.handshakeTimeoutMs ?? 10_000,
    });
    const acceptor = new MtlsAcceptor(server);
    const refused = (reason: string, remote: string) => opts.onRefused?.(reason, remote);
    // Connections closed at the gate: their handshake's failure is not a refused handshake.
    const gated = new WeakSet<object>();
    // Every TCP connection, before its handshake gets anywhere (the TLS layer has only wrapped
    // it): at the limit it is closed unanswered; otherwise it counts until its socket closes.
    server.on("connection", (raw: net.Socket) => {
      if (opts.gate && acceptor.#open >= opts.gate.maxConnections()) {
        gated.add(raw);
        opts.gate.onOverflow();
        raw.destroy();
        return;
      }
      acceptor.#open++;
      raw.once("close", () => acceptor.#open--);
    });
    server.on("secureConnection", (socket: tls.TLSSocket) => {
      const remote = `${socket.remoteAddress}:${socket.remotePort}`;
      const peer = peerSpiffeId(socket);
      if (!peer) {
        // Chains to the bundle but is no X.509-SVID (e.g. the bundle's own root as a leaf).
        refused("not_svid", remote);
        socket.destroy();
        return;
      }
      if (acceptor.#closed) {
        socket.destroy();
        return;
      }
      // Small HTTP/2 frames must not wait for Nagle's algorithm and delayed ACKs (≈ 40 ms).
      socket.setNoDelay(true);
      acceptor.#push({ conn: new SocketConn(socket), peer, alpn: socket.alpnProtocol ?? false });
    });
    server.on("tlsClientError", (err: Error & { code?: string }, socket: tls.TLSSocket) => {
      if (gated.has((socket as { _parent?: object })._parent ?? socket)) return;
      refused(refusalReason(err), `${socket.remoteAddress}:${socket.remotePort}`);
    });
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      const at = { host: opts.address.hostname, port: opts.address.port };
      server.listen(opts.reusePort ? { ...at, reusePort: true } : at, () => {
        server.off("error", reject);
        resolve(acceptor);
      });
    });
  }

  /** The bound address (the actual port when the config asked for port 0). */
  get addr(): Deno.NetAddr {
    const a = this.#server.address() as { address: string; port: number };
    return { transport: "tcp", hostname: a.address, port: a.port };
  }

  /** TCP connections open: in their handshake, accepted, or handed out and not yet closed. */
  get connections(): number {
    return this.#open;
  }

  /** The next accepted connection, or null once closed. */
  accept(): Promise<MtlsConn | null> {
    const next = this.#ready.shift();
    if (next) return Promise.resolve(next);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  /** Stops accepting; connections handed out stay their owners' to close. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
    for (const c of this.#ready.splice(0)) c.conn.socket.destroy();
    const w = this.#waiting;
    this.#waiting = null;
    w?.(null);
  }

  #push(c: MtlsConn): void {
    const w = this.#waiting;
    if (w) {
      this.#waiting = null;
      w(c);
    } else this.#ready.push(c);
  }
}

/** A metric label for a refused TLS handshake. */
function refusalReason(err: Error & { code?: string }): string {
  const code = err.code ?? "";
  const text = err.message ?? "";
  if (code === "ERR_TLS_HANDSHAKE_TIMEOUT" || /timed? ?out/i.test(text)) {
    return "handshake_timeout";
  }
  if (/peer did not return a certificate|certificate required/i.test(text)) {
    return "no_client_cert";
  }
  // The client gave up on us (e.g. it does not trust our certificate): it sent an alert.
  if (/_ALERT_/.test(code)) return "client_aborted";
  // Deno 2.9.6 reports a client certificate that fails verification as a hang-up of the
  // handshake, not as a verify error (measured): the reason cannot be told apart.
  if (code === "ECONNRESET" || /socket hang up/i.test(text)) return "handshake_aborted";
  if (/version|protocol/i.test(text)) return "protocol";
  if (/certificate|verify|self.signed|expired|not yet valid/i.test(text + code)) return "untrusted";
  return code ? code.toLowerCase() : "handshake_failed";
}
