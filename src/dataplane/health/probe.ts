import type { Endpoint } from "../../discovery/endpoint.ts";

/**
 * One active health check of an endpoint. Resolves when the endpoint passes; rejects with an
 * error saying what failed otherwise. When `signal` aborts (the check timed out or stopped),
 * it gives up at once and releases its socket. Implementations: `httpProbe`, `tcpProbe`;
 * `createProbe` picks one for a cluster's `health_check`.
 */
export type Probe = (endpoint: Endpoint, signal: AbortSignal) => Promise<void>;
