import type { ConnReader } from "../../net/conn_reader.ts";
import type { Exchange } from "../exchange.ts";
import type { Body } from "./body.ts";
import type { Framing } from "./h1_framing.ts";
import type { HeadLimits, RequestHead } from "./h1_head.ts";
import { H1RequestBody } from "./h1_request_body.ts";
import { endToEndHeaders } from "./hop_by_hop.ts";
import { getHeader, type ProxyRequest } from "./message.ts";

/**
 * Builds the proxy request, or returns a rejection reason (`bad_host`,
 * `method_not_allowed`, `bad_target`). Sets the exchange's protocol, method, path,
 * authority and user agent.
 *
 * @param head the parsed request head
 * @param framing how its body is delimited
 * @param ex the request's exchange
 * @param reader the connection's buffered reader, positioned after the head
 * @param limits head limits, used for a chunked body's trailer section
 * @param onBodyEnd called once the body has been read, cancelled or failed
 * @returns the request, or the reason it is rejected
 */
export function requestFromHead(
  head: RequestHead,
  framing: Framing,
  ex: Exchange,
  reader: ConnReader,
  limits: HeadLimits,
  onBodyEnd: () => void,
): ProxyRequest | string {
  let target = head.target;
  let authority: string | undefined;
  let hosts = 0;
  for (let i = 0; i < head.headers.length; i += 2) {
    if (head.headers[i] === "host") {
      hosts++;
      authority = head.headers[i + 1];
    }
  }
  if (hosts > 1 || (hosts === 0 && head.minor === 1)) return "bad_host";
  if (head.method === "CONNECT") return "method_not_allowed";
  if (target.charCodeAt(0) !== 47 /* / */) {
    if (target === "*" && head.method === "OPTIONS") { /* asterisk-form */ }
    else {
      const m = /^https?:\/\/([^/?#]+)([^#]*)$/i.exec(target);
      if (!m) return "bad_target";
      authority = m[1];
      target = m[2] === "" ? "/" : m[2].startsWith("?") ? "/" + m[2] : m[2];
    }
  }
  const upgrade = framing.upgrade !== null && framing.upgrade.toLowerCase() !== "h2c"
    ? framing.upgrade
    : null;
  let body: Body | null = null;
  if (framing.kind !== "none") {
    body = new H1RequestBody(reader, framing, limits, onBodyEnd);
  }
  const protocol = head.minor === 1 ? "HTTP/1.1" : "HTTP/1.0";
  ex.protocol = protocol;
  ex.method = head.method;
  ex.path = target;
  ex.authority = authority ?? "";
  ex.userAgent = getHeader(head.headers, "user-agent") ?? "";
  return {
    method: head.method,
    path: target,
    authority: authority ?? "",
    scheme: "http",
    headers: endToEndHeaders(head.headers, framing.connection),
    body,
    protocol,
    upgrade,
  };
}
