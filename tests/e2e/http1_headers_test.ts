// End-to-end: HTTP/1.1 header handling through skiff — forwarding headers, Host, hop-by-hop
// fields, large heads, bytes outside ASCII, absolute-form targets and trailers.
import assert from "node:assert/strict";
import {
  oneRouteConfig,
  RawConn,
  startHttpUpstream,
  startSidecar,
  startTcpServer,
  type TestServer,
} from "../_harness/mod.ts";
import { curl, parseCurlHeaders } from "./_curl_cli.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

Deno.test("headers: GET via curl keeps Host and adds x-forwarded-for, -proto and a request id", async () => {
  await using up = startHttpUpstream("app");
  await using s = await startSidecar(oneRouteConfig(up.port));

  const r = await curl([
    "-D",
    "-",
    "-o",
    "/dev/null",
    "-H",
    "Host: shop.example:8080",
    `${s.url("web")}/items/7?color=red`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(parseCurlHeaders(text(r.stdout)).status, /^HTTP\/1\.1 200/);
  const first = up.requests[0];
  assert.equal(new URL(first.url).pathname + new URL(first.url).search, "/items/7?color=red");
  assert.equal(first.headers.get("host"), "shop.example:8080");
  assert.equal(first.headers.get("x-forwarded-for"), "127.0.0.1");
  assert.equal(first.headers.get("x-forwarded-proto"), "http");
  assert.match(first.headers.get("x-request-id") ?? "", UUID);

  // An incoming x-forwarded-for is appended to; an incoming request id is kept.
  const r2 = await curl([
    "-o",
    "/dev/null",
    "-H",
    "X-Forwarded-For: 203.0.113.7",
    "-H",
    "X-Request-Id: req-from-client-1",
    `${s.url("web")}/`,
  ]);
  assert.equal(r2.code, 0, r2.stderr);
  const second = up.requests[1];
  assert.equal(second.headers.get("x-forwarded-for"), "203.0.113.7, 127.0.0.1");
  assert.equal(second.headers.get("x-request-id"), "req-from-client-1");
  // Each request without an id gets a new one.
  await curl(["-o", "/dev/null", `${s.url("web")}/`]);
  assert.match(up.requests[2].headers.get("x-request-id") ?? "", UUID);
  assert.notEqual(up.requests[2].headers.get("x-request-id"), first.headers.get("x-request-id"));
});

/** Reads one request head (and a Content-Length body) from a raw upstream connection. */
async function readRequest(
  c: RawConn,
): Promise<{ head: string; raw: Uint8Array; body: Uint8Array }> {
  const raw = await c.readUntil("\r\n\r\n");
  const head = text(raw);
  const m = /\r\ncontent-length: *(\d+)/i.exec(head);
  return { head, raw, body: m ? await c.readExactly(Number(m[1])) : new Uint8Array(0) };
}

/**
 * A hand-written upstream that records request heads (as text and as the exact bytes) and
 * answers `response` to each.
 */
function rawUpstream(
  response: (head: string) => string | Uint8Array,
): TestServer & { heads: string[]; rawHeads: Uint8Array[] } {
  const heads: string[] = [];
  const rawHeads: Uint8Array[] = [];
  const server = startTcpServer(async (conn) => {
    const c = new RawConn(conn);
    for (;;) {
      const { head, raw } = await readRequest(c);
      heads.push(head);
      rawHeads.push(raw);
      await c.send(response(head));
    }
  });
  return Object.assign(server, { heads, rawHeads });
}

Deno.test("headers: hop-by-hop fields are not forwarded in either direction", async () => {
  await using up = rawUpstream(() =>
    "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Resp-Hop\r\nX-Resp-Hop: secret\r\n" +
    "Keep-Alive: timeout=5\r\nX-Resp-End: kept\r\nContent-Length: 2\r\n\r\nok"
  );
  await using s = await startSidecar(oneRouteConfig(up.port));

  await using c = await RawConn.connect(s.port("web"));
  await c.send(
    "GET /hop HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Hop-A\r\nX-Hop-A: 1\r\n" +
      "Keep-Alive: timeout=5\r\nTE: trailers\r\nUpgrade: foo/1\r\nProxy-Connection: keep-alive\r\n" +
      "X-End: kept\r\n\r\n",
  );
  const res = await c.readResponse();
  assert.equal(res.status, 200);
  assert.equal(res.text(), "ok");
  const head = up.heads[0].toLowerCase();
  for (const name of ["x-hop-a", "keep-alive", "te", "upgrade", "proxy-connection"]) {
    assert.doesNotMatch(head, new RegExp(`\r\n${name}:`), `"${name}" forwarded upstream:\n${head}`);
  }
  assert.doesNotMatch(head, /\r\nconnection:[^\r]*x-hop-a/);
  assert.match(head, /\r\nx-end: kept\r\n/);
  assert.equal(res.header("x-resp-hop"), undefined);
  assert.equal(res.header("keep-alive"), undefined);
  assert.equal(res.header("x-resp-end"), "kept");
});

Deno.test("headers: large header blocks pass in both directions", async () => {
  const big = "b".repeat(40 * 1024);
  await using up = startHttpUpstream(
    "app",
    () => new Response("ok", { headers: { "x-big-reply": "r".repeat(30 * 1024) } }),
  );
  await using s = await startSidecar(oneRouteConfig(up.port));
  await using c = await RawConn.connect(s.port("web"));
  await c.send(`GET /big HTTP/1.1\r\nHost: a\r\nX-Big: ${big}\r\n\r\n`);
  const res = await c.readResponse();
  assert.equal(res.status, 200);
  assert.equal(res.header("x-big-reply")?.length, 30 * 1024);
  assert.equal(up.requests[0].headers.get("x-big"), big);
});

Deno.test("headers: bytes outside ASCII in field values pass through unchanged", async () => {
  // UTF-8 "café", a lone 0xFF and Latin-1 "naïve": opaque obs-text to HTTP/1.1.
  const reqValue = "caf\xc3\xa9 \xff";
  const resValue = "na\xefve \xc3\xa9";
  await using up = rawUpstream(() =>
    latin1(`HTTP/1.1 200 OK\r\nX-Reply: ${resValue}\r\nContent-Length: 2\r\n\r\nok`)
  );
  await using s = await startSidecar(oneRouteConfig(up.port));
  await using c = await RawConn.connect(s.port("web"));
  await c.send(latin1(`GET /bytes HTTP/1.1\r\nHost: a\r\nX-Name: ${reqValue}\r\n\r\n`));
  await c.readUntil("\r\nx-reply: ");
  const got = await c.readUntil("\r\n");
  assert.deepEqual([...got], [...latin1(resValue + "\r\n")], "response field bytes");
  const sent = latin1(`\r\nx-name: ${reqValue}\r\n`);
  const upstreamHead = up.rawHeads[0];
  assert.ok(
    indexOf(upstreamHead, sent) >= 0,
    `request field bytes: ${JSON.stringify(String.fromCharCode(...upstreamHead))}`,
  );
});

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

Deno.test("headers: an absolute-form target sets the authority and the path", async () => {
  await using up = startHttpUpstream("app");
  await using s = await startSidecar(oneRouteConfig(up.port));
  await using c = await RawConn.connect(s.port("web"));
  await c.send(
    "GET http://other.example:8080/abs/path?q=1 HTTP/1.1\r\nHost: ignored.example\r\n\r\n",
  );
  assert.equal((await c.readResponse()).status, 200);
  const url = new URL(up.requests[0].url);
  assert.equal(url.pathname + url.search, "/abs/path?q=1");
  assert.equal(up.requests[0].headers.get("host"), "other.example:8080");
});

Deno.test("headers: trailers of chunked bodies are forwarded both ways", async () => {
  const seen: { head?: string; body?: string } = {};
  await using up = startTcpServer(async (conn) => {
    const c = new RawConn(conn);
    seen.head = text(await c.readUntil("\r\n\r\n"));
    seen.body = text(await c.readUntil("\r\n0\r\n")) + text(await c.readUntil("\r\n\r\n"));
    await c.send(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-checksum\r\n\r\n" +
        "5\r\nhello\r\n0\r\nx-checksum: abc123\r\n\r\n",
    );
    await c.readToEnd(30_000);
  });
  await using s = await startSidecar(oneRouteConfig(up.port));
  await using c = await RawConn.connect(s.port("web"));
  await c.send(
    "POST /t HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTrailer: x-req-sum\r\n\r\n" +
      "4\r\ndata\r\n0\r\nx-req-sum: 42\r\n\r\n",
  );
  const res = await c.readResponse();
  assert.equal(res.status, 200);
  assert.equal(res.text(), "hello");
  assert.deepEqual(res.trailers, [["x-checksum", "abc123"]]);
  assert.match(seen.head!, /\r\ntransfer-encoding: chunked\r\n/i);
  assert.equal(seen.body, "4\r\ndata\r\n0\r\nx-req-sum: 42\r\n\r\n");
});
