/**
 * Shared test helpers: an in-process sidecar from YAML, skiff as a child process, small
 * real upstream servers, raw client connections, waiting on conditions with deadlines
 * (never fixed sleeps), and the real `promtool check metrics`.
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
export { RawConn, type RawResponse, readWithin } from "./raw_conn.ts";
export { concatBytes } from "../../src/core/mod.ts";
export { randomBytes, sha256 } from "./bytes.ts";
export { freePort, waitFor, within } from "./wait.ts";
export { promtoolCheck, promtoolInstalled } from "./promtool.ts";
