import type { Clock, Logger, TimerWheel } from "../../core/mod.ts";
import { type Connector, connectWithTimeout } from "../../net/connect.ts";
import type { Host } from "../balance/host.ts";
import type { ClusterRuntime } from "../cluster.ts";
import type { Exchange } from "../exchange.ts";
import type { MeshDialer } from "../mesh/mesh_dialer.ts";
import { connectError } from "../pool/h1_pool.ts";
import { type Duplex, tunnel } from "./tunnel.ts";

/** Settings and collaborators of a TCP proxy listener. */
export interface TcpProxyOptions {
  cluster: ClusterRuntime;
  idleTimeoutMs: number;
  clock: Clock;
  wheel: TimerWheel;
  log: Logger;
  connect?: Connector;
  /** Opens mutual-TLS hops, for a cluster with `tls.mode: mtls`. */
  mesh?: MeshDialer;
}

/** How many different endpoints a TCP connection tries before giving up. */
const CONNECT_ATTEMPTS = 3;

/**
 * Proxies one downstream connection to an endpoint of the cluster: connects (with the
 * cluster's connect timeout, trying up to three endpoints), then copies bytes both ways
 * with half-close and an idle timeout. On connect failure the client connection is closed.
 * The exchange is filled in (upstream host, bytes, error) for metrics and the access log.
 */
export async function proxyTcp(
  conn: Duplex,
  leftover: Uint8Array,
  ex: Exchange,
  opts: TcpProxyOptions,
): Promise<void> {
  const cluster = opts.cluster;
  ex.protocol = "TCP";
  ex.cluster = cluster.name;
  let upstream: Duplex | undefined;
  let host: Host | undefined;
  const avoid = new Set<Host>();
  for (let i = 0; i < CONNECT_ATTEMPTS && !upstream; i++) {
    host = cluster.pick(ex.remote, avoid);
    if (!host || avoid.has(host)) break;
    ex.upstreamHost = host.key;
    const started = opts.clock.monotonic();
    try {
      upstream = cluster.config.tls.mode === "mtls"
        ? await meshHop(opts.mesh, host, cluster)
        : await connectWithTimeout(
          host.endpoint.address,
          cluster.config.connect_timeout,
          opts.wheel,
          opts.connect,
        );
      ex.connectMs = opts.clock.monotonic() - started;
      cluster.observe(host, "connected");
    } catch (err) {
      const e = connectError(err, host.key);
      cluster.observe(host, e);
      ex.error = e.reason;
      opts.log.warn("tcp connect failed", {
        cluster: cluster.name,
        upstream: host.key,
        detail: e.message,
      });
      avoid.add(host);
      if (i > 0) ex.retries++;
    }
  }
  if (!upstream || !host) {
    ex.error ||= "no_healthy_upstream";
    try {
      conn.close();
    } catch { /* gone */ }
    return;
  }
  ex.error = "";
  host.begin();
  cluster.active++;
  ex.upstreamStart = opts.clock.monotonic();
  try {
    const r = await tunnel(
      { conn, leftover },
      { conn: upstream, leftover: new Uint8Array(0) },
      { wheel: opts.wheel, idleTimeoutMs: opts.idleTimeoutMs },
    );
    ex.bytesReceived = r.downstreamToUpstream;
    ex.bytesSent = r.upstreamToDownstream;
  } finally {
    cluster.active--;
    host.end(opts.clock.monotonic(), opts.clock.monotonic() - ex.upstreamStart, true);
  }
}

function meshHop(mesh: MeshDialer | undefined, host: Host, cluster: ClusterRuntime) {
  if (!mesh) throw new Error(`cluster "${cluster.name}" uses mtls but no identity is loaded`);
  return mesh.dialTcp(host.endpoint, cluster.config, cluster.config.connect_timeout);
}
