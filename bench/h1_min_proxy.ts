/**
 * The least an HTTP/1.1 reverse proxy on Deno sockets does, for the proxy benchmark: skiff's
 * own head scanners and socket operations, the forwarding headers skiff adds
 * (`x-forwarded-for`, `x-forwarded-proto`, a generated `x-request-id` unless the client sent
 * one), one upstream connection per client connection, and nothing else — no routing, pools,
 * timeouts, retries, metrics, access log, chunked bodies or request bodies, and any error just
 * closes both connections. Next to `bench/l4_relay.ts` (no HTTP at all) it shows how much of
 * skiff's cost per request is HTTP itself and how much is skiff's features around it.
 *
 * ```
 * deno run --allow-net bench/h1_min_proxy.ts LISTEN_PORT UPSTREAM_PORT
 * ```
 * @module
 */
import { ConnReader, writeAll } from "../src/net/conn_reader.ts";
import { useDirectWrite } from "../src/net/direct_ops.ts";
import { scanRequestHead } from "../src/dataplane/http/h1_request_scan.ts";
import { scanResponseHead } from "../src/dataplane/http/h1_response_scan.ts";
import {
  encodeHead,
  encodeResponseHead,
  put,
  requestHeadText,
} from "../src/dataplane/http/h1_serialize.ts";

const [listenPort, upstreamPort] = Deno.args.map(Number);
const LIMITS = { maxHeadBytes: 64 * 1024, maxHeaders: 100 };

async function serve(client: Deno.TcpConn, up: Deno.TcpConn, ip: string): Promise<void> {
  client.setNoDelay(true);
  up.setNoDelay(true);
  useDirectWrite(client);
  useDirectWrite(up);
  const cr = new ConnReader(client);
  const ur = new ConnReader(up);
  const reqOut = new Uint8Array(16 * 1024);
  const resOut = new Uint8Array(16 * 1024);
  const kept = new Uint8Array(2 * 1024);
  try {
    for (;;) {
      let head = scanRequestHead(cr.buf, cr.start, cr.end, LIMITS);
      while (head === null) {
        if ((await cr.fill()) === 0) return;
        head = scanRequestHead(cr.buf, cr.start, cr.end, LIMITS);
      }
      cr.consume(head.size);
      const fields: string[] = [];
      let authority = "";
      let xff: string | undefined;
      let proto = false;
      let rid = false;
      const h = head.headers;
      for (let i = 0; i < h.length; i += 2) {
        const name = h[i];
        if (name === "host") authority = h[i + 1];
        else if (name === "x-forwarded-for") {
          xff = xff === undefined ? h[i + 1] : `${xff}, ${h[i + 1]}`;
        } else if (name === "content-length" || name === "transfer-encoding") return; // no bodies
        else if (name !== "connection" && name !== "keep-alive") {
          if (name === "x-forwarded-proto") proto = true;
          else if (name === "x-request-id") rid = true;
          fields.push(name, h[i + 1]);
        }
      }
      fields.push("x-forwarded-for", xff === undefined ? ip : `${xff}, ${ip}`);
      if (!proto) fields.push("x-forwarded-proto", "http");
      if (!rid) fields.push("x-request-id", crypto.randomUUID());
      const text = requestHeadText(head.method, head.target, authority, fields, -2);
      const n = encodeHead(text, reqOut);
      if (n < 0) return;
      const sent = await up.write(reqOut.subarray(0, n));
      if (sent < n) await writeAll(up, reqOut.subarray(sent, n));

      let res = scanResponseHead(ur.buf, ur.start, ur.end, LIMITS, kept);
      while (res === null) {
        if ((await ur.fill()) === 0) return;
        res = scanResponseHead(ur.buf, ur.start, ur.end, LIMITS, kept);
      }
      ur.consume(res.size);
      let length = -1;
      for (let i = 0; i < res.framing.length; i += 2) {
        if (res.framing[i] === "content-length") length = Number(res.framing[i + 1]);
        else if (res.framing[i] === "transfer-encoding") return; // Content-Length bodies only
      }
      if (length < 0) return;
      while (ur.available < length) if ((await ur.fill()) === 0) return;
      let o = encodeResponseHead(resOut, res.status, res.kept);
      o = put(resOut, o, `content-length: ${length}\r\n\r\n`);
      if (o < 0 || o + length > resOut.length) return;
      resOut.set(ur.take(length), o);
      const w = await client.write(resOut.subarray(0, o + length));
      if (w < o + length) await writeAll(client, resOut.subarray(w, o + length));
    }
  } catch {
    // Any failure ends both connections.
  } finally {
    for (const c of [client, up]) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
  }
}

for await (const client of Deno.listen({ hostname: "127.0.0.1", port: listenPort })) {
  const ip = (client.remoteAddr as Deno.NetAddr).hostname;
  Deno.connect({ hostname: "127.0.0.1", port: upstreamPort }).then(
    (up) => serve(client, up, ip),
    () => client.close(),
  );
}
