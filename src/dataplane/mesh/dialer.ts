import type { ClusterConfig } from "../../config/schema.ts";
import type { Endpoint } from "../../discovery/endpoint.ts";
import type { SvidProvider } from "../../security/mtls.ts";
import { SpiffeId } from "../../security/spiffe_id.ts";
import type { SpiffeMatcher } from "../../security/spiffe_matcher.ts";
import type { MeshDialer } from "./mesh_dialer.ts";
import { mtlsConnect } from "./mtls_connector.ts";

/** ALPN of the HTTP mesh hop. */
export const MESH_HTTP_ALPN = ["h2"];

/** The mesh dialer presenting `source`'s current SVID on every new hop. */
export function meshDialer(source: SvidProvider): MeshDialer {
  return {
    async dial(ep: Endpoint, cluster: ClusterConfig, timeoutMs: number) {
      const expect: SpiffeId | SpiffeMatcher | undefined = ep.spiffeId
        ? SpiffeId.parse(ep.spiffeId)
        : cluster.tls.expect;
      if (expect === undefined) {
        throw new Error(
          `No SPIFFE ID to expect from ${ep.key}: give the endpoint a spiffe_id, or the cluster ` +
            "tls.expect",
        );
      }
      const hop = await mtlsConnect(ep.address, {
        source,
        expect,
        alpn: MESH_HTTP_ALPN,
        timeoutMs,
      });
      if (hop.alpn !== "h2") {
        hop.conn.close();
        throw new Error(`${ep.key} (${hop.peer}) does not speak HTTP/2 over its mesh port`);
      }
      return hop.conn;
    },
  };
}
