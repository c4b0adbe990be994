/**
 * Transport helpers over the runtime's sockets.
 * @module
 */
export { ConnReader, writeAll } from "./conn_reader.ts";
export { type Connector, connectWithTimeout, denoConnect } from "./connect.ts";
