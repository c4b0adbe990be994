import type { ConnReader } from "../net/conn_reader.ts";
import { closeQuietly } from "./_conn_util.ts";
import type { ListenerDeps } from "./_listener_deps.ts";
import type { ConfigVersion, ListenerVersion } from "./config_version.ts";
import { Exchange, type PeerIdentity } from "./exchange.ts";
import { proxyTcp } from "./tcp/tcp_proxy.ts";
import type { Duplex } from "./tcp/tunnel.ts";

/**
 * Serves a connection of listener `name` as an opaque TCP tunnel to the cluster of its
 * `tcp` route, after its rate limit and authorization, under the version `current` now.
 *
 * @param d the listener's collaborators
 * @param name the listener's name
 * @param current the listener's current version: the tunnel holds it for its whole life
 * @param conn the downstream connection
 * @param reader its reader, with the bytes detection buffered (or a read still in flight)
 * @param remote the downstream address as text
 * @param peer the client's identity on a mutual-TLS connection
 */
export async function serveTcp(
  d: ListenerDeps,
  name: string,
  current: ConfigVersion,
  conn: Deno.TcpConn,
  reader: ConnReader,
  remote: string,
  peer?: PeerIdentity,
): Promise<void> {
  // The tunnel holds the version current now for its whole life.
  const version = current.retain();
  try {
    await tunnel(d, name, conn, reader, remote, version.listener(name)!, version, peer);
  } finally {
    version.release();
  }
}

async function tunnel(
  d: ListenerDeps,
  name: string,
  conn: Deno.TcpConn,
  reader: ConnReader,
  remote: string,
  lv: ListenerVersion,
  version: ConfigVersion,
  peer: PeerIdentity | undefined,
): Promise<void> {
  if (lv.rateLimit !== undefined && lv.rateLimit.take() > 0) {
    d.onRateLimited?.();
    d.log.debug("connection refused by the rate limit", { listener: name, remote });
    return closeQuietly(conn);
  }
  // The listener's policy decides per connection, on every TCP path (mTLS or plain).
  const decision = lv.authz?.policy?.decide({ peer: peer?.id });
  if (decision && !decision.allowed) {
    lv.authz!.onDenied();
    d.log.warn("connection denied", {
      reason: "forbidden",
      listener: lv.config.name,
      peer: peer?.uri,
      xfcc: peer?.xfcc,
      remote,
      rule: decision.rule,
    });
    return closeQuietly(conn);
  }
  const tcp = lv.config.tcp;
  const cluster = tcp ? version.clusters.get(tcp.cluster) : undefined;
  if (!tcp || !cluster) {
    d.log.warn("no tcp route for a non-HTTP connection", { listener: lv.config.name, remote });
    return closeQuietly(conn);
  }
  const ex = new Exchange(lv.config.name, remote, d.clock.monotonic(), d.clock.now());
  ex.peer = peer;
  try {
    await proxyTcp(readerDuplex(conn, reader), new Uint8Array(0), ex, {
      cluster,
      idleTimeoutMs: tcp.idle_timeout,
      clock: d.clock,
      wheel: d.wheel,
      log: d.log,
      mesh: d.mesh,
    });
  } finally {
    ex.end = d.clock.monotonic();
    d.sink.finish(ex);
  }
}

/**
 * The downstream side of a tunnel after detection: bytes already buffered (or a read still
 * in flight from detection) come first, then the connection itself.
 */
function readerDuplex(conn: Deno.TcpConn, reader: ConnReader): Duplex {
  return {
    read: async (p) => {
      if (reader.available === 0 && reader.reading && (await reader.fill()) === 0) return null;
      if (reader.available > 0) {
        const chunk = reader.take(p.length);
        p.set(chunk);
        return chunk.length;
      }
      return await conn.read(p);
    },
    write: (p) => conn.write(p),
    closeWrite: () => conn.closeWrite(),
    close: () => conn.close(),
  };
}
