import type { Exchange } from "../exchange.ts";
import type { ProxyRequest, ProxyResponse } from "./message.ts";

/**
 * What a downstream protocol server (HTTP/1.1, HTTP/2) calls for each request. `handle`
 * never throws: failures come back as local replies. After the response has been written
 * (or writing failed), the server calls `finish` exactly once.
 */
export interface HttpHandler {
  handle(req: ProxyRequest, ex: Exchange): Promise<ProxyResponse>;
  finish(ex: Exchange): void;
}
