import type { Config, ListenerConfig } from "../config/schema.ts";
import type { Clock, Logger } from "../core/mod.ts";
import type { MeshDialer } from "../dataplane/mesh/mesh_dialer.ts";
import type { ConnectionGate, SecureAcceptor } from "../dataplane/mesh/secure_acceptor.ts";
import type { SvidSource } from "../security/svid_source.ts";
import type { MetricsRegistry } from "../telemetry/mod.ts";

/**
 * Loads and watches the workload's SVID when the config has an `identity` section: its
 * expiry and rotations are in `/metrics` and the logs, and its SPIFFE ID is what gossip
 * announces unless `gossip.spiffe_id` says otherwise. The X.509 code is loaded only then.
 *
 * @throws (as a rejection) `SvidError` when the directory's files do not make a valid SVID
 */
export async function openIdentity(
  config: Config,
  deps: { clock: Clock; log: Logger; registry: MetricsRegistry },
): Promise<SvidSource | undefined> {
  if (!config.identity) return undefined;
  const { SvidSource } = await import("../security/svid_source.ts");
  const source = await SvidSource.open({
    dir: config.identity.dir,
    clock: deps.clock,
    log: deps.log,
    metrics: deps.registry,
  });
  source.watch();
  const svid = source.current();
  deps.log.info("identity loaded", {
    spiffe_id: svid.id.toString(),
    not_after: svid.notAfter.toISOString(),
  });
  return source;
}

/**
 * The dialer of mutual-TLS hops when a cluster uses them (loaded on demand, with the X.509
 * code); undefined otherwise.
 *
 * @throws {Error} when a cluster uses mtls and no identity is loaded (config checks prevent it)
 */
export async function meshFor(
  config: Config,
  identity: SvidSource | undefined,
): Promise<MeshDialer | undefined> {
  const mtls = config.clusters.find((c) => c.tls.mode === "mtls");
  if (!mtls) return undefined;
  if (!identity) throw new Error(`cluster "${mtls.name}" uses mtls but no identity is loaded`);
  const { meshDialer } = await import("../dataplane/mesh/dialer.ts");
  return meshDialer(identity);
}

/**
 * Binds mutual-TLS listeners when the config has any (loaded on demand, with the X.509
 * code): refused handshakes are counted in `skiff_mtls_refused_total{listener,reason}` and
 * logged at debug level.
 *
 * @throws {Error} when a listener uses mtls and no identity is loaded (config checks prevent it)
 */
export async function secureFor(
  config: Config,
  identity: SvidSource | undefined,
  deps: { registry: MetricsRegistry; log: Logger; reusePort?: boolean },
): Promise<((l: ListenerConfig, gate?: ConnectionGate) => Promise<SecureAcceptor>) | undefined> {
  const mtls = config.listeners.find((l) => l.tls.mode === "mtls");
  if (!mtls) return undefined;
  if (!identity) throw new Error(`listener "${mtls.name}" uses mtls but no identity is loaded`);
  const { listenSecure } = await import("../dataplane/mesh/secure_listener.ts");
  const refused = deps.registry.counter(
    "skiff_mtls_refused",
    "Mutual-TLS handshakes refused (no or untrusted client certificate, not an SVID, …).",
    ["listener", "reason"],
  );
  return (l, gate) =>
    listenSecure(l, identity, {
      reusePort: deps.reusePort,
      gate,
      onRefused: (reason, remote) => {
        refused.labels(l.name, reason).inc();
        deps.log.debug("mtls handshake refused", { listener: l.name, reason, remote });
      },
    });
}
