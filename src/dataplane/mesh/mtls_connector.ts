import net from "node:net";
import tls from "node:tls";
import type { SocketAddress } from "../../config/address.ts";
import { SocketConn } from "../../net/socket_conn.ts";
import { TimeoutError } from "../../core/abort.ts";
import {
  connectOptions,
  PeerIdentityError,
  peerSpiffeId,
  type SvidProvider,
} from "../../security/mtls.ts";
import type { SpiffeId } from "../../security/spiffe_id.ts";
import type { SpiffeMatcher } from "../../security/spiffe_matcher.ts";

/** Options of `mtlsConnect`. */
export interface MtlsConnectOptions {
  source: SvidProvider;
  /** The SPIFFE ID the peer must present, or a matcher for the IDs it may present. */
  expect: SpiffeId | SpiffeMatcher;
  /** ALPN ids offered, most preferred first. */
  alpn: string[];
  /** Gives up (and closes the socket) after this long; the whole connect and handshake. */
  timeoutMs: number;
}

/** An established outbound mesh hop. */
export interface MtlsClientConn {
  conn: SocketConn;
  /** The server's SPIFFE ID (checked against `expect` during the handshake). */
  peer: SpiffeId;
  alpn: string | false;
}

/**
 * Opens the calling side of a mesh hop: TCP, then a TLS 1.3 handshake presenting this
 * workload's current SVID, accepting the server only when its certificate chains to the
 * bundle and holds the expected SPIFFE ID.
 *
 * @throws (as a rejection) `TimeoutError` after `timeoutMs`; a
 *   `PeerIdentityError` when the server is someone else; the TLS or socket error otherwise
 */
export function mtlsConnect(
  addr: SocketAddress,
  opts: MtlsConnectOptions,
): Promise<MtlsClientConn> {
  return new Promise((resolve, reject) => {
    // Half-open TCP underneath, so a peer's end of stream does not end ours (TCP relays).
    const tcp = net.connect({ host: addr.hostname, port: addr.port, allowHalfOpen: true });
    const socket = tls.connect({
      socket: tcp,
      ...connectOptions(opts.source, { expect: opts.expect, alpn: opts.alpn }),
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TimeoutError("mesh connect and handshake timeout", opts.timeoutMs));
    }, opts.timeoutMs);
    socket.once("error", (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      const peer = peerSpiffeId(socket);
      if (!peer) {
        socket.destroy();
        reject(new PeerIdentityError("The server's certificate is not an X.509-SVID"));
        return;
      }
      socket.setNoDelay(true);
      resolve({ conn: new SocketConn(socket), peer, alpn: socket.alpnProtocol ?? false });
    });
  });
}
