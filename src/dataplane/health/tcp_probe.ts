import { type Connector, denoConnect } from "../../net/connect.ts";
import { dial } from "./_dial.ts";
import type { Probe } from "./probe.ts";

/**
 * A TCP health check: the endpoint passes when a connection to it opens (the connection is
 * closed at once).
 *
 * @param connect opens TCP connections (tests pass their own)
 */
export function tcpProbe(connect: Connector = denoConnect): Probe {
  return async (endpoint, signal) => {
    const conn = await dial(endpoint.address, signal, connect);
    conn.close();
  };
}
