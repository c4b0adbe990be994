/** Our side of the settings, and limits we enforce. */
export interface H2Settings {
  /** Streams the peer may open at once (server) — advertised. */
  maxConcurrentStreams: number;
  /** Receive window per stream, advertised as SETTINGS_INITIAL_WINDOW_SIZE. */
  initialWindowSize: number;
  /** Receive window of the whole connection. */
  connectionWindowSize: number;
  /** Largest header list we accept (decoded size), advertised. */
  maxHeaderListSize: number;
  /**
   * Server: streams the client may reset, or make us reset by breaking the rules, in one
   * burst before the connection ends with GOAWAY ENHANCE_YOUR_CALM ("rapid reset",
   * CVE-2023-44487).
   */
  maxResetBurst: number;
  /** Server: how fast that allowance refills, in streams per second. */
  resetRefillPerSecond: number;
}

/**
 * Defaults: 256 streams, 1 MiB per stream, 16 MiB per connection, 64 KiB of headers; a
 * client may reset 1000 streams in a burst, 100 more per second.
 */
export const DEFAULT_SETTINGS: H2Settings = {
  maxConcurrentStreams: 256,
  initialWindowSize: 1 << 20,
  connectionWindowSize: 16 << 20,
  maxHeaderListSize: 64 * 1024,
  maxResetBurst: 1000,
  resetRefillPerSecond: 100,
};
