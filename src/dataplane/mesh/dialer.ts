import type { ClusterConfig } from "../../config/schema.ts";
import type { Endpoint } from "../../discovery/endpoint.ts";
import { PeerIdentityError, type SvidProvider } from "../../security/mtls.ts";
import { SpiffeId } from "../../security/spiffe_id.ts";
import { compileMatcher, type SpiffeMatcher } from "../../security/spiffe_matcher.ts";
import type { MeshDialer } from "./mesh_dialer.ts";
import { mtlsConnect } from "./mtls_connector.ts";
import { MESH_TCP_ALPN } from "./secure_listener.ts";

/** ALPN of the HTTP mesh hop. */
export const MESH_HTTP_ALPN = "h2";

/** The mesh dialer presenting `source`'s current SVID on every new hop. */
export function meshDialer(source: SvidProvider): MeshDialer {
  const hop = async (ep: Endpoint, cluster: ClusterConfig, timeoutMs: number, alpn: string) => {
    // An endpoint's own ID (configured, or advertised by its gossip member) narrows the
    // cluster's tls.expect, never widens it: a member cannot vouch for itself past the policy.
    const own = ep.spiffeId ? SpiffeId.parse(ep.spiffeId) : undefined;
    if (own && cluster.tls.expect && !compileMatcher(cluster.tls.expect)(own)) {
      throw new PeerIdentityError(
        `${ep.key} announces ${own}, which the cluster's tls.expect does not accept`,
        own,
      );
    }
    const expect: SpiffeId | SpiffeMatcher | undefined = own ?? cluster.tls.expect;
    if (expect === undefined) {
      throw new Error(
        `No SPIFFE ID to expect from ${ep.key}: give the endpoint a spiffe_id, or the cluster ` +
          "tls.expect",
      );
    }
    const c = await mtlsConnect(ep.address, { source, expect, alpn: [alpn], timeoutMs });
    if (c.alpn !== alpn) {
      c.conn.close();
      throw new Error(`${ep.key} (${c.peer}) does not speak ${alpn} on that port`);
    }
    return c.conn;
  };
  return {
    dial: (ep, cluster, timeoutMs) => hop(ep, cluster, timeoutMs, MESH_HTTP_ALPN),
    dialTcp: (ep, cluster, timeoutMs) => hop(ep, cluster, timeoutMs, MESH_TCP_ALPN),
  };
}
