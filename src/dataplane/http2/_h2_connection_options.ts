import type { Logger } from "../../core/logger.ts";
import type { TimerWheel } from "../../core/timer_wheel.ts";
import type { ConnReader } from "../../net/conn_reader.ts";
import type { H2Settings } from "./h2_settings.ts";
import type { H2Stream } from "./h2_stream.ts";

/** What an HTTP/2 connection needs. */
export interface H2ConnectionOptions {
  /** Our side: the server (downstream h2c) or the client (upstream). */
  role: "server" | "client";
  /** The socket. */
  conn: {
    read(p: Uint8Array): Promise<number | null>;
    write(p: Uint8Array): Promise<number>;
    close(): void;
  };
  /** A reader holding bytes already read from `conn` (the preface, after detection). */
  reader?: ConnReader;
  /** Our settings and limits, over {@link DEFAULT_SETTINGS}. */
  settings?: Partial<H2Settings>;
  /** Timers: the idle timeout and the grace period of a closing connection. */
  wheel: TimerWheel;
  /** Monotonic milliseconds, read only when the peer resets streams (default: the wheel's). */
  now?: () => number;
  /** Where stream and connection problems are logged. */
  log: Logger;
  /** Server: a new stream with its request headers (pseudo-headers included, validated). */
  onStream?: (stream: H2Stream) => void;
  /** A stream's first header block was malformed: answer (server) or fail (client). */
  onMalformed?: (stream: H2Stream, reason: string) => void;
  /** Closes the connection after this long without open streams (0: never). */
  idleTimeoutMs?: number;
}
