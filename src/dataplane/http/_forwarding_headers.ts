import type { RouteConfig } from "../../config/schema.ts";
import { requestId } from "../../core/ids.ts";
import type { Exchange } from "../exchange.ts";
import { type ProxyRequest, removeHeader } from "./message.ts";

/** Forwarding headers and the route's header mutations. */
export function prepareRequest(req: ProxyRequest, cfg: RouteConfig, ex: Exchange): void {
  const h = req.headers;
  for (const name of cfg.request_headers_to_remove) removeHeader(h, name);
  for (const add of cfg.request_headers_to_add) {
    if (!add.append) removeHeader(h, add.name);
    h.push(add.name, add.value);
  }
  let xff: string | undefined;
  let proto = false;
  let rid: string | undefined;
  for (let i = 0; i < h.length; i += 2) {
    const n = h[i];
    if (n.charCodeAt(0) !== 120) continue; // x-
    if (n === "x-forwarded-for") {
      xff = xff === undefined ? h[i + 1] : xff + ", " + h[i + 1];
      h.splice(i, 2);
      i -= 2;
    } else if (n === "x-forwarded-proto") proto = true;
    else if (n === "x-request-id") rid = h[i + 1];
    else if (n === "x-forwarded-client-cert") {
      // Only skiff vouches for a client certificate: a client's own claim is dropped.
      h.splice(i, 2);
      i -= 2;
    }
  }
  if (ex.peer) h.push("x-forwarded-client-cert", ex.peer.xfcc);
  const ip = remoteIp(ex.remote);
  h.push("x-forwarded-for", xff === undefined ? ip : xff + ", " + ip);
  if (!proto) h.push("x-forwarded-proto", req.scheme);
  if (rid === undefined) {
    rid = requestId();
    h.push("x-request-id", rid);
  }
  ex.requestId = rid;
  ex.forwardedFor = xff ?? "";
}

// Client IPs by `ip:port` address: every request on a connection has the same address
// string (its hash is cached), so a lookup is cheaper than cutting the string again.
const remoteIps = new Map<string, string>();

function remoteIp(remote: string): string {
  let ip = remoteIps.get(remote);
  if (ip === undefined) {
    const colon = remote.lastIndexOf(":");
    ip = remote.startsWith("[")
      ? remote.slice(1, remote.indexOf("]"))
      : colon > 0
      ? remote.slice(0, colon)
      : remote;
    if (remoteIps.size >= 4096) remoteIps.clear(); // bounded: addresses come and go
    remoteIps.set(remote, ip);
  }
  return ip;
}
