/**
 * Shared test helpers: an in-process sidecar from YAML, skiff as a child process, small
 * real upstream servers, raw client connections, and waiting on conditions with deadlines
 * (never fixed sleeps).
 * @module
 */
export { startSidecar, type TestSidecar } from "./sidecar.ts";
export { oneRouteConfig } from "./configs.ts";
export { type SkiffProcess, spawnSkiff } from "./process.ts";
export {
  type RecordedRequest,
  startBlackhole,
  startHttpUpstream,
  startTcpEcho,
  startTcpServer,
  type TestServer,
} from "./upstreams.ts";
export { concatBytes, RawConn, type RawResponse } from "./raw_conn.ts";
export { randomBytes, sha256 } from "./bytes.ts";
export { freePort, waitFor } from "./wait.ts";
