import { type ConnReader, writeAll } from "../../net/conn_reader.ts";
import type { Exchange } from "../exchange.ts";
import { tunnel } from "../tcp/tunnel.ts";
import type { H1ServerOptions } from "./_h1_server_options.ts";
import { encodeHead, fieldLines } from "./h1_serialize.ts";
import type { ProxyResponse } from "./message.ts";

/**
 * Completes an Upgrade: sends the client the `101 Switching Protocols` head, then relays
 * bytes both ways between the client and the upgraded upstream connection until either
 * side ends. Closes the upstream connection and finishes the exchange. Never throws.
 *
 * @param conn the client's connection
 * @param reader its buffered reader, positioned after the request head
 * @param o the listener's options: its timer wheel, idle timeout, log, clock and handler
 * @param res the upstream's 101 response, with its `upgraded` connection
 * @param protocol the protocol the client asked to upgrade to
 * @param ex the request's exchange
 */
export async function upgradeTunnel(
  conn: Deno.Conn,
  reader: ConnReader,
  o: H1ServerOptions,
  res: ProxyResponse,
  protocol: string,
  ex: Exchange,
): Promise<void> {
  const up = res.upgraded!;
  const text = "HTTP/1.1 101 Switching Protocols\r\n" + fieldLines(res.headers) +
    "connection: upgrade\r\nupgrade: " + protocol + "\r\n\r\n";
  const out = new Uint8Array(text.length);
  encodeHead(text, out);
  try {
    await writeAll(conn, out);
    const fromClient = reader.take().slice();
    const result = await tunnel(
      { conn, leftover: fromClient },
      { conn: up, leftover: up.leftover },
      { wheel: o.wheel, idleTimeoutMs: o.idleTimeoutMs },
    );
    ex.bytesReceived = result.downstreamToUpstream;
    ex.bytesSent = result.upstreamToDownstream;
  } catch (err) {
    o.log.debug("upgraded connection ended with an error", { err });
  } finally {
    up.close();
    ex.end = o.clock.monotonic();
    o.handler.finish(ex);
  }
}
