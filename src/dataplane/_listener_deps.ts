import type { ListenerConfig } from "../config/schema.ts";
import type { Clock, Logger, TimerWheel } from "../core/mod.ts";
import type { Detected } from "./detect.ts";
import type { ExchangeSink } from "./exchange.ts";
import type { MeshDialer } from "./mesh/mesh_dialer.ts";
import type { ConnectionGate, SecureAcceptor } from "./mesh/secure_acceptor.ts";

/** Counters a listener reports. */
export interface ListenerEvents {
  /** A connection was accepted (+1) or ended (-1). */
  onConnection(delta: number): void;
  /** A connection was refused because `max_connections` was reached. */
  onOverflow(): void;
  /** A malformed request was rejected. */
  onMalformed(reason: string): void;
  /** A connection was closed by a timeout (`idle`, `request_headers`, `request`). */
  onTimeout(which: string): void;
  /** The protocol a connection was detected as. */
  onDetected(protocol: Detected): void;
}

/** Binds a TCP listening socket, as `Deno.listen` does. */
export type ListenFn = (opts: Deno.TcpListenOptions & { transport: "tcp" }) => Deno.TcpListener;

/** Collaborators of a listener. */
export interface ListenerDeps {
  clock: Clock;
  wheel: TimerWheel;
  log: Logger;
  sink: ExchangeSink;
  events: ListenerEvents;
  /** Bind with SO_REUSEPORT (several processes or Workers on one port). */
  reusePort?: boolean;
  /** Binds the listening socket; `Deno.listen` when absent (tests inject bind failures). */
  listen?: ListenFn;
  /** Binds the acceptor of a `tls.mode: mtls` listener (required for those). */
  secure?: (config: ListenerConfig, gate?: ConnectionGate) => Promise<SecureAcceptor>;
  /** Opens mutual-TLS hops to clusters with `tls.mode: mtls`. */
  mesh?: MeshDialer;
  /** Counts a request (TCP: a connection) the listener's `rate_limit` refused. */
  onRateLimited?: () => void;
}
