import type { Clock, Drain, Logger, TimerWheel } from "../../core/mod.ts";
import type { PeerIdentity } from "../exchange.ts";
import type { HeadLimits } from "./h1_head.ts";
import type { HttpHandler } from "./handler.ts";

/** Settings and collaborators of an HTTP/1.1 listener. */
export interface H1ServerOptions {
  listener: string;
  limits: HeadLimits;
  idleTimeoutMs: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  clock: Clock;
  wheel: TimerWheel;
  log: Logger;
  handler: HttpHandler;
  /** Counts a malformed request by reason (`bad_request`, `bare_lf`, `cl_te`, …). */
  onMalformed: (reason: string) => void;
  /** Counts connections closed by a timeout: `idle`, `request_headers`, `request`. */
  onTimeout: (which: string) => void;
  /** The client's identity, on a mutual-TLS listener. */
  peer?: PeerIdentity;
  /**
   * The listener's drain: once it starts, the response in flight carries
   * `connection: close` and ends the connection, and an idle connection closes after
   * `drainIdleTimeoutMs`. Upgraded connections are left alone.
   */
  drain?: Drain;
  /** How long an idle connection stays open once the drain starts (default 1000). */
  drainIdleTimeoutMs?: number;
}
