import type { ListenerConfig } from "../../config/schema.ts";
import type { SvidProvider } from "../../security/mtls.ts";
import { MtlsAcceptor } from "./mtls_acceptor.ts";
import type { ConnectionGate, SecureAcceptor } from "./secure_acceptor.ts";

/** ALPN of a TCP mesh hop. */
export const MESH_TCP_ALPN = "skiff-tcp";

/**
 * Binds the mutual-TLS side of listener `l`: HTTP listeners offer `h2` then `http/1.1`, TCP
 * listeners skiff's TCP id; every accepted connection carries the client's SPIFFE ID and the
 * `x-forwarded-client-cert` value its requests get (`By=<ours>;URI=<theirs>`).
 *
 * @throws (as a rejection) the bind error
 */
export async function listenSecure(
  l: ListenerConfig,
  source: SvidProvider,
  opts: {
    reusePort?: boolean;
    onRefused?: (reason: string, remote: string) => void;
    gate?: ConnectionGate;
  },
): Promise<SecureAcceptor> {
  const acceptor = await MtlsAcceptor.listen({
    address: l.address,
    source,
    alpn: l.protocol === "tcp" ? [MESH_TCP_ALPN] : ["h2", "http/1.1"],
    reusePort: opts.reusePort,
    onRefused: opts.onRefused,
    gate: opts.gate,
  });
  return {
    get addr() {
      return acceptor.addr;
    },
    accept: async () => {
      const c = await acceptor.accept();
      if (!c) return null;
      const uri = String(c.peer);
      const xfcc = `By=${source.current().id};URI=${uri}`;
      return { conn: c.conn, peer: { id: c.peer, uri, xfcc }, alpn: c.alpn };
    },
    close: () => acceptor.close(),
  };
}
