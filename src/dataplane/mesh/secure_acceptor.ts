import type { ByteConn } from "../../net/socket_conn.ts";
import type { PeerIdentity } from "../exchange.ts";

/** A connection accepted on a mutual-TLS listener. */
export interface SecureConn {
  conn: ByteConn;
  peer: PeerIdentity;
  /** The ALPN protocol agreed, or false when the client offered none. */
  alpn: string | false;
}

/**
 * A listener's connection limit, applied to mutual-TLS connections before their handshake:
 * a flood of connections costs no handshakes beyond the limit.
 */
export interface ConnectionGate {
  /**
   * Connections open at once, handshakes in progress included (asked at each connection: a
   * reload may change it).
   */
  maxConnections(): number;
  /** Told of each connection closed at the limit, before its handshake. */
  onOverflow(): void;
}

/**
 * What a listener with `tls.mode: mtls` accepts from, instead of a plain TCP socket. The
 * runtime builds it (`listenSecure` in `secure_listener.ts`, which loads the X.509 code)
 * only when a config uses mutual TLS.
 */
export interface SecureAcceptor {
  readonly addr: Deno.NetAddr;
  /** The next connection whose client proved a SPIFFE ID, or null once closed. */
  accept(): Promise<SecureConn | null>;
  close(): void;
}
