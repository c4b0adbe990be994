import type { ClusterConfig } from "../../config/schema.ts";
import type { Endpoint } from "../../discovery/endpoint.ts";
import type { ByteConn } from "../../net/socket_conn.ts";
import type { H2ConnectionOptions } from "../http2/h2_connection.ts";

/**
 * Opens the mutual-TLS hops of clusters with `tls.mode: mtls` (HTTP/2 by ALPN). The data plane
 * gets one from the runtime, which loads the implementation (`meshDialer` in `dialer.ts`, with
 * the X.509 code) only when the config uses mutual TLS.
 */
export interface MeshDialer {
  /**
   * Connects to `ep` and completes the handshake within `timeoutMs`, accepting the peer only
   * with the endpoint's SPIFFE ID (or, when it names none, one the cluster's `tls.expect`
   * accepts).
   *
   * @throws (as a rejection) when the peer cannot be reached, is someone else, or is slow
   */
  dial(
    ep: Endpoint,
    cluster: ClusterConfig,
    timeoutMs: number,
  ): Promise<H2ConnectionOptions["conn"]>;
  /** The same for a TCP hop (skiff's TCP ALPN id): bytes both ways, with half-close. */
  dialTcp(ep: Endpoint, cluster: ClusterConfig, timeoutMs: number): Promise<ByteConn>;
}
