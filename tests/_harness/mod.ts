/**
 * Shared test helpers: an in-process sidecar from YAML, skiff as a child process, small
 * real upstream servers, and waiting on conditions with deadlines (never fixed sleeps).
 * @module
 */
export { startSidecar, type TestSidecar } from "./sidecar.ts";
export { type SkiffProcess, spawnSkiff } from "./process.ts";
export { startHttpUpstream, startTcpEcho, type TestServer } from "./upstreams.ts";
export { freePort, waitFor } from "./wait.ts";
