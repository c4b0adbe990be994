/**
 * skiff's own HTTP/2 (RFC 9113) and HPACK (RFC 7541): frames, streams, flow control and
 * header compression, for both the downstream server and the upstream client.
 * @module
 */
export { H2Connection, type H2ConnectionOptions, type H2Settings } from "./h2_connection.ts";
export { H2Stream } from "./h2_stream.ts";
export { ErrorCode, H2ConnectionError, H2StreamError } from "./frame.ts";
export { HpackDecoder } from "./hpack_decoder.ts";
export { HpackEncoder } from "./hpack_encoder.ts";
export { HpackError } from "./hpack_error.ts";
export { STATIC_TABLE } from "./hpack_static_table.ts";
