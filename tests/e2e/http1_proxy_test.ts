// End-to-end: HTTP/1.1 through skiff with real clients (curl, raw sockets) and real
// upstreams — bodies both ways, keep-alive, pipelining, HEAD/204/304 and
// Expect: 100-continue. Headers are in http1_headers_test.ts.
import assert from "node:assert/strict";
import {
  oneRouteConfig,
  randomBytes,
  RawConn,
  sha256,
  startHttpUpstream,
  startSidecar,
} from "../_harness/mod.ts";
import { clusterView } from "./_admin_api.ts";
import { curl, parseCurlHeaders } from "./_curl_cli.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** A response body of unknown length (Deno.serve sends it chunked), in `parts` pieces. */
function streamOf(
  bytes: Uint8Array<ArrayBuffer>,
  parts = 7,
): ReadableStream<Uint8Array<ArrayBuffer>> {
  const size = Math.ceil(bytes.length / parts);
  const pieces: Uint8Array<ArrayBuffer>[] = [];
  for (let off = 0; off < bytes.length; off += size) pieces.push(bytes.slice(off, off + size));
  return ReadableStream.from(pieces);
}

Deno.test("http1: Content-Length and chunked request bodies arrive intact; both response framings", async () => {
  // The upstream echoes the body: with a length on /fixed, chunked (unknown length) on /stream.
  await using up = startHttpUpstream("app", (req, _body, rec) => {
    const path = new URL(req.url).pathname;
    return new Response(path === "/stream" ? streamOf(rec.bytes, 3) : rec.bytes);
  });
  await using s = await startSidecar(oneRouteConfig(up.port));

  const cases = [
    { name: "content-length", args: [] as string[], path: "/fixed", te: "content-length" },
    { name: "chunked", args: ["-H", "Transfer-Encoding: chunked"], path: "/stream", te: "chunked" },
  ];
  for (const [i, c] of cases.entries()) {
    const body = `${c.name} body ` + "0123456789".repeat(50 + i);
    const r = await curl([
      "-D",
      "/dev/stderr",
      "--data-binary",
      body,
      ...c.args,
      `${s.url("web")}${c.path}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(text(r.stdout), body, `${c.name}: the echoed body`);
    const rec = up.requests[i];
    assert.equal(rec.method, "POST");
    assert.equal(rec.body, body, `${c.name}: the body the upstream received`);
    const reqFraming = c.name === "chunked" ? "transfer-encoding" : "content-length";
    assert.ok(rec.headers.has(reqFraming), `${c.name}: upstream request framed by ${reqFraming}`);
    const resHeaders = parseCurlHeaders(r.stderr).fields.map(([k, v]) => `${k}: ${v}`);
    assert.ok(
      resHeaders.some((h) =>
        c.te === "chunked" ? h === "transfer-encoding: chunked" : h.startsWith("content-length:")
      ),
      `${c.name}: response framing in ${resHeaders.join(" | ")}`,
    );
  }
});

Deno.test("http1: a 5 MiB body is byte-exact in both directions, with either framing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "skiff_e2e_big_" });
  try {
    const upload = randomBytes(5 * 1024 * 1024);
    const download = randomBytes(5 * 1024 * 1024 + 123);
    await Deno.writeFile(`${dir}/upload.bin`, upload);
    await using up = startHttpUpstream("app", (req, _body, rec) => {
      const headers = {
        "x-received-sha256": sha256(rec.bytes),
        "x-received-length": `${rec.bytes.length}`,
      };
      const chunked = new URL(req.url).pathname === "/chunked";
      return new Response(chunked ? streamOf(download, 13) : download, { headers });
    });
    await using s = await startSidecar(oneRouteConfig(up.port));

    for (const mode of ["length", "chunked"]) {
      const te = mode === "chunked" ? ["-H", "Transfer-Encoding: chunked"] : [];
      const out = `${dir}/download_${mode}.bin`;
      const r = await curl([
        "-D",
        "/dev/stderr",
        "-o",
        out,
        "--data-binary",
        `@${dir}/upload.bin`,
        ...te,
        `${s.url("web")}/${mode}`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const fields = new Map(parseCurlHeaders(r.stderr).fields);
      assert.equal(fields.get("x-received-length"), `${upload.length}`, `${mode}: upload length`);
      assert.equal(fields.get("x-received-sha256"), sha256(upload), `${mode}: upload bytes`);
      const got = await Deno.readFile(out);
      assert.equal(got.length, download.length, `${mode}: download length`);
      assert.equal(sha256(got), sha256(download), `${mode}: download bytes`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("http1: keep-alive requests on one client connection share one upstream connection", async () => {
  await using up = startHttpUpstream("app", (req) => new Response(new URL(req.url).pathname));
  await using s = await startSidecar(oneRouteConfig(up.port));

  await using c = await RawConn.connect(s.port("web"));
  for (let i = 0; i < 5; i++) {
    await c.send(`GET /r${i} HTTP/1.1\r\nHost: a\r\n\r\n`);
    const res = await c.readResponse();
    assert.equal(res.status, 200);
    assert.equal(res.text(), `/r${i}`);
  }
  // A second client after the first: the idle pooled connection is reused again.
  await using c2 = await RawConn.connect(s.port("web"));
  await c2.send("GET /again HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.equal((await c2.readResponse()).text(), "/again");

  assert.equal(up.requests.length, 6);
  assert.equal(new Set(up.requests.map((r) => r.remote)).size, 1, "one upstream connection");
  const ep = (await clusterView(s.adminUrl, "app")).endpoints[0];
  assert.equal(ep.connections?.open, 1);
  assert.equal(ep.requests, 6);
});

Deno.test("http1: three pipelined requests in one write get three responses in order", async () => {
  await using up = startHttpUpstream(
    "app",
    (req, body) => new Response(`${req.method} ${new URL(req.url).pathname} ${body}`),
  );
  await using s = await startSidecar(oneRouteConfig(up.port));

  await using c = await RawConn.connect(s.port("web"));
  await c.send(
    "GET /one HTTP/1.1\r\nHost: a\r\n\r\n" +
      "POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello" +
      "GET /three HTTP/1.1\r\nHost: a\r\n\r\n",
  );
  const got = [];
  for (let i = 0; i < 3; i++) got.push((await c.readResponse()).text());
  assert.deepEqual(got, ["GET /one ", "POST /two hello", "GET /three "]);
  // The connection is still usable afterwards.
  await c.send("GET /four HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.equal((await c.readResponse()).text(), "GET /four ");
});

Deno.test("http1: HEAD keeps content-length without a body; 204 and 304 keep the connection usable", async () => {
  await using up = startHttpUpstream("app", (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/204") return new Response(null, { status: 204 });
    if (path === "/304") return new Response(null, { status: 304, headers: { etag: '"v1"' } });
    return new Response("hello");
  });
  await using s = await startSidecar(oneRouteConfig(up.port));

  await using c = await RawConn.connect(s.port("web"));
  // All four in one write: a body wrongly sent after HEAD/204/304 would corrupt the next one.
  await c.send(
    "HEAD /doc HTTP/1.1\r\nHost: a\r\n\r\n" +
      "GET /204 HTTP/1.1\r\nHost: a\r\n\r\n" +
      'GET /304 HTTP/1.1\r\nHost: a\r\nIf-None-Match: "v1"\r\n\r\n' +
      "GET /doc HTTP/1.1\r\nHost: a\r\n\r\n",
  );
  const head = await c.readResponse({ noBody: true });
  assert.equal(head.status, 200);
  assert.equal(head.header("content-length"), "5");
  const noContent = await c.readResponse();
  assert.equal(noContent.status, 204);
  const notModified = await c.readResponse();
  assert.equal(notModified.status, 304);
  assert.equal(notModified.header("etag"), '"v1"');
  const get = await c.readResponse();
  assert.equal(get.status, 200);
  assert.equal(get.text(), "hello");
  assert.equal(up.requests.map((r) => r.method).join(","), "HEAD,GET,GET,GET");

  // curl agrees: HEAD shows the length and no body.
  const r = await curl(["-I", `${s.url("web")}/doc`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(text(r.stdout), /^content-length: 5\r$/im);
});

Deno.test("http1: Expect: 100-continue gets an interim 100 before the body is sent", async () => {
  await using up = startHttpUpstream(
    "app",
    (_req, _body, rec) => new Response(`${rec.bytes.length} ${sha256(rec.bytes)}`),
  );
  await using s = await startSidecar(oneRouteConfig(up.port));

  const body = randomBytes(2048);
  await using c = await RawConn.connect(s.port("web"));
  await c.send(
    "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 2048\r\nExpect: 100-continue\r\n\r\n",
  );
  // The client waits for the 100 before sending a byte of body.
  assert.equal(text(await c.readUntil("\r\n\r\n")), "HTTP/1.1 100 Continue\r\n\r\n");
  await c.send(body);
  const res = await c.readResponse();
  assert.equal(res.status, 200);
  assert.equal(res.text(), `2048 ${sha256(body)}`);

  // curl with Expect (it waits up to 1 s for the 100) shows the interim response it got.
  const dir = await Deno.makeTempDir({ prefix: "skiff_e2e_expect_" });
  try {
    await Deno.writeFile(`${dir}/body.bin`, body);
    const r = await curl([
      "-v",
      "-H",
      "Expect: 100-continue",
      "--data-binary",
      `@${dir}/body.bin`,
      `${s.url("web")}/curl`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^> Expect: 100-continue\r?$/m);
    assert.match(r.stderr, /^< HTTP\/1\.1 100 Continue\r?$/m);
    assert.equal(text(r.stdout), `2048 ${sha256(body)}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
