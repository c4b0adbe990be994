import type { ClusterConfig } from "../../config/schema.ts";
import type { Endpoint } from "../../discovery/endpoint.ts";
import type { SvidProvider } from "../../security/mtls.ts";
import { SpiffeId } from "../../security/spiffe_id.ts";
import type { SpiffeMatcher } from "../../security/spiffe_matcher.ts";
import type { MeshDialer } from "./mesh_dialer.ts";
import { mtlsConnect } from "./mtls_connector.ts";
import { MESH_TCP_ALPN } from "./secure_listener.ts";

/** ALPN of the HTTP mesh hop. */
export const MESH_HTTP_ALPN = ["h2"];

/** The mesh dialer presenting `source`'s current SVID on every new hop. */
export function meshDialer(source: SvidProvider): MeshDialer {
  const hop = async (ep: Endpoint, cluster: ClusterConfig, timeoutMs: number, alpn: string) => {
    const expect: SpiffeId | SpiffeMatcher | undefined = ep.spiffeId
      ? SpiffeId.parse(ep.spiffeId)
      : cluster.tls.expect;
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
    dial: (ep, cluster, timeoutMs) => hop(ep, cluster, timeoutMs, MESH_HTTP_ALPN[0]),
    dialTcp: (ep, cluster, timeoutMs) => hop(ep, cluster, timeoutMs, MESH_TCP_ALPN),
  };
}
