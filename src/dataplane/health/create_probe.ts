import type { HealthCheckConfig } from "../../config/mod.ts";
import { type Connector, denoConnect } from "../../net/connect.ts";
import { httpProbe } from "./http_probe.ts";
import type { Probe } from "./probe.ts";
import { tcpProbe } from "./tcp_probe.ts";

/**
 * The probe a cluster's `health_check` asks for.
 *
 * @param config the cluster's health check
 * @param cluster the cluster's name: the host header of HTTP checks without `host`
 * @param connect opens TCP connections (tests pass their own)
 */
export function createProbe(
  config: HealthCheckConfig,
  cluster: string,
  connect: Connector = denoConnect,
): Probe {
  if (config.type === "tcp") return tcpProbe(connect);
  return httpProbe({
    path: config.path,
    host: config.host ?? cluster,
    statuses: config.expected_statuses,
  }, connect);
}
