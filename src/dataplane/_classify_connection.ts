import type { ListenerConfig } from "../config/schema.ts";
import type { ConnReader } from "../net/conn_reader.ts";
import type { ListenerDeps } from "./_listener_deps.ts";
import { type Detected, detectProtocol } from "./detect.ts";

/**
 * Decides the protocol of a new connection; `more` means the client went away.
 *
 * @param conn the new connection (closed here when a `request_headers` deadline expires)
 * @param reader its reader: the bytes peeked stay buffered there for whoever serves it
 * @param cfg the listener settings the connection was accepted with
 * @param d the listener's timer wheel (the deadline) and events (`onTimeout`)
 * @returns the protocol to serve it as, or `more` when there is nothing to serve
 */
export async function classifyConnection(
  conn: Deno.TcpConn,
  reader: ConnReader,
  cfg: ListenerConfig,
  d: Pick<ListenerDeps, "wheel" | "events">,
): Promise<Detected> {
  if (cfg.protocol === "tcp") return "tcp";
  if (cfg.protocol === "auto" && cfg.detection.server_first_ports.includes(cfg.address.port)) {
    return "tcp";
  }
  const timeoutMs = cfg.protocol === "auto" ? cfg.detection.timeout : cfg.timeouts.request_headers;
  let timedOut = false;
  const expired = Promise.withResolvers<undefined>();
  const timer = d.wheel.schedule(timeoutMs, () => {
    timedOut = true;
    expired.resolve(undefined);
    if (cfg.protocol !== "auto") {
      // No request head in time (possibly not a byte): the request_headers deadline.
      d.events.onTimeout("request_headers");
      conn.close();
    }
  });
  try {
    for (;;) {
      const seen = detectProtocol(reader.buf, reader.start, reader.end);
      if (seen !== "more") return seen === "tcp" && cfg.protocol === "http" ? "http1" : seen;
      if (timedOut) return cfg.protocol === "auto" ? "tcp" : "more";
      // On timeout the read stays in flight; the TCP path picks up its bytes later.
      const n = await Promise.race([reader.fill(), expired.promise]);
      if (n === undefined) return "tcp"; // the client stayed silent: a server-first protocol
      if (n === 0) return reader.available > 0 && cfg.protocol === "http" ? "http1" : "more";
    }
  } catch {
    return "more";
  } finally {
    timer.cancel();
  }
}
