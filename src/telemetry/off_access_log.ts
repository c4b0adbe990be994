import type { AccessLogSink } from "./access_log_sink.ts";

/** The `off` sink: `enabled` is false and every method does nothing. */
export const offAccessLog: AccessLogSink = Object.freeze({
  enabled: false,
  dropped: 0,
  write: () => {},
  writeLine: () => {},
  flush: () => Promise.resolve(),
  close: () => Promise.resolve(),
});
