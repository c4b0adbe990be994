/**
 * Transport helpers over the runtime's sockets.
 * @module
 */
export { ConnReader, writeAll } from "./conn_reader.ts";
export { type Connector, connectWithTimeout, denoConnect } from "./connect.ts";
export type { MessageStream, Transport } from "./transport.ts";
export { UdpTransport, type UdpTransportOptions, type UdpTransportStats } from "./udp_transport.ts";
