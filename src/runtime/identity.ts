import type { Config } from "../config/schema.ts";
import type { Clock, Logger } from "../core/mod.ts";
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
