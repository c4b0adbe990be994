// HTTP/2 downstream (h2c prior knowledge) with real clients — curl and node:http2 — to an
// HTTP/1.1 cluster and to an HTTP/2 cluster, and HTTP/1.1 clients to an HTTP/2 cluster.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import process from "node:process";
import { startSidecar, waitFor } from "../_harness/mod.ts";
import { curl, parseCurlHeaders } from "./_curl_cli.ts";
import http2 from "node:http2";
import { closeSession, h2Connect, h2Request, startH2Upstream } from "./_h2_peers.ts";

const MiB = 1024 * 1024;

/** Random bytes (crypto.getRandomValues fills at most 64 KiB per call). */
function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) {
    crypto.getRandomValues(out.subarray(off, Math.min(n, off + 65536)));
  }
  return out;
}

/** The upstreams' transformation of a request body: every byte XOR 0x5a. */
function scramble(b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) out[i] = b[i] ^ 0x5a;
  return out;
}

function sha256(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

/**
 * An HTTP/1.1 upstream (Deno.serve): `/echo` answers 201 with the request body scrambled,
 * the request's method, path and body hash in headers and two set-cookie fields;
 * `/empty` answers 204; `/c/<i>` answers `<i>:<body>`.
 */
function startH1Upstream() {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const body = new Uint8Array(await req.arrayBuffer());
    const url = new URL(req.url);
    if (url.pathname === "/empty") return new Response(null, { status: 204 });
    if (url.pathname.startsWith("/c/")) {
      return new Response(`${url.pathname.slice(3)}:${new TextDecoder().decode(body)}`);
    }
    const headers = new Headers({
      "content-type": "application/octet-stream",
      "x-up-method": req.method,
      "x-up-path": url.pathname + url.search,
      "x-up-sha256": sha256(body),
      "x-up-protocol": "HTTP/1.1",
    });
    headers.append("set-cookie", "a=1");
    headers.append("set-cookie", "b=2");
    return new Response(scramble(body), { status: 201, headers });
  });
  return {
    port: server.addr.port,
    close: () => server.shutdown(),
  };
}

/**
 * An HTTP/2 upstream: `/echo` answers 201 with the request body scrambled and trailers
 * `x-body-sha256` (of the request body) and `x-trailer: yes`; `/c/<i>` answers `<i>:<body>`
 * without trailers; `/endless` sends one chunk and never ends (given to `onEndless`).
 */
function startH2EchoUpstream(onEndless: (stream: http2.ServerHttp2Stream) => void) {
  return startH2Upstream(({ headers, body, stream }) => {
    const path = String(headers[":path"]);
    if (path === "/endless") {
      stream.respond({ ":status": 200 });
      stream.write("first chunk");
      onEndless(stream);
      return;
    }
    if (path.startsWith("/c/")) {
      stream.respond({ ":status": 200 });
      stream.end(`${path.slice(3)}:${new TextDecoder().decode(body)}`);
      return;
    }
    stream.respond({
      ":status": 201,
      "content-type": "application/octet-stream",
      "x-up-method": String(headers[":method"]),
      "x-up-protocol": "HTTP/2",
    }, { waitForTrailers: true });
    stream.once("wantTrailers", () => {
      stream.sendTrailers({ "x-body-sha256": sha256(body), "x-trailer": "yes" });
    });
    stream.end(Buffer.from(scramble(body)));
  });
}

function config(h1Port: number, h2Port: number): string {
  return `
listeners:
  - name: web
    address: 127.0.0.1:0
    routes:
      - name: slow
        match: { prefix: /slow/ }
        prefix_rewrite: /
        cluster: h2
        timeout: 300ms
      - name: to-h2
        match: { prefix: /h2/ }
        prefix_rewrite: /
        cluster: h2
      - name: to-h1
        cluster: h1
clusters:
  - name: h1
    protocol: http1
    endpoints: [{ address: "127.0.0.1:${h1Port}" }]
  - name: h2
    protocol: http2
    endpoints: [{ address: "127.0.0.1:${h2Port}" }]
`;
}

Deno.test({
  name: "HTTP/2 downstream",
  // node:http2 sessions and the servers' sockets outlive single steps.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    // Listener leaks in skiff's node:http2 code show up as process warnings.
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on("warning", onWarning);
    const h1 = startH1Upstream();
    const endless: http2.ServerHttp2Stream[] = [];
    await using h2 = await startH2EchoUpstream((s) => endless.push(s));
    await using sidecar = await startSidecar(config(h1.port, h2.port));
    const base = sidecar.url("web");
    const dir = await Deno.makeTempDir({ prefix: "skiff_h2_e2e_" });
    try {
      const big = randomBytes(2 * MiB);
      await Deno.writeFile(`${dir}/big.bin`, big);

      await t.step("curl → HTTP/1.1 cluster: status, headers and 2 MiB both ways", async () => {
        const r = await curl([
          "--http2-prior-knowledge",
          "--data-binary",
          `@${dir}/big.bin`,
          "-H",
          "content-type: application/octet-stream",
          "-D",
          `${dir}/h1.headers`,
          "-o",
          `${dir}/h1.out`,
          "-w",
          "%{http_version} %{http_code}",
          `${base}/echo?q=1`,
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(new TextDecoder().decode(r.stdout), "2 201");
        const { fields } = parseCurlHeaders(await Deno.readTextFile(`${dir}/h1.headers`));
        const get = (n: string) => fields.filter(([k]) => k === n).map(([, v]) => v);
        assert.deepEqual(get("x-up-method"), ["POST"]);
        assert.deepEqual(get("x-up-path"), ["/echo?q=1"]);
        assert.deepEqual(get("x-up-sha256"), [sha256(big)]);
        assert.deepEqual(get("set-cookie"), ["a=1", "b=2"]);
        assert.deepEqual(get("content-length"), [String(big.length)]);
        const out = await Deno.readFile(`${dir}/h1.out`);
        assert.equal(out.length, big.length);
        assert.equal(sha256(out), sha256(scramble(big)));
      });

      await t.step("node:http2 → HTTP/1.1 cluster: 2 MiB both ways, and a 204", async () => {
        const session = await h2Connect(sidecar.port("web"));
        try {
          const r = await h2Request(session, {
            ":method": "PUT",
            ":path": "/echo",
            "content-type": "application/octet-stream",
          }, big);
          assert.equal(r.status, 201);
          assert.equal(r.headers["x-up-method"], "PUT");
          assert.equal(r.headers["x-up-sha256"], sha256(big));
          assert.deepEqual(r.headers["set-cookie"], ["a=1", "b=2"]);
          assert.equal(r.headers["connection"], undefined);
          assert.equal(sha256(r.body), sha256(scramble(big)));

          const empty = await h2Request(session, { ":path": "/empty" });
          assert.equal(empty.status, 204);
          assert.equal(empty.body.length, 0);
        } finally {
          await closeSession(session);
        }
      });

      await t.step(
        "node:http2 → HTTP/2 cluster: 2 MiB both ways and response trailers",
        async () => {
          const session = await h2Connect(sidecar.port("web"));
          try {
            const r = await h2Request(session, {
              ":method": "POST",
              ":path": "/h2/echo",
              "content-type": "application/octet-stream",
            }, big);
            assert.equal(r.status, 201);
            assert.equal(r.headers["x-up-protocol"], "HTTP/2");
            assert.equal(r.headers["x-up-method"], "POST");
            assert.equal(sha256(r.body), sha256(scramble(big)));
            assert.ok(r.trailers, "the response had no trailers");
            assert.equal(r.trailers["x-trailer"], "yes");
            assert.equal(r.trailers["x-body-sha256"], sha256(big));
            assert.equal(h2.requests.at(-1)!.headers[":path"], "/echo");
          } finally {
            await closeSession(session);
          }
        },
      );

      await t.step("curl → HTTP/2 cluster: 2 MiB both ways", async () => {
        const r = await curl([
          "--http2-prior-knowledge",
          "--data-binary",
          `@${dir}/big.bin`,
          "-o",
          `${dir}/h2.out`,
          "-w",
          "%{http_version} %{http_code}",
          `${base}/h2/echo`,
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(new TextDecoder().decode(r.stdout), "2 201");
        assert.equal(sha256(await Deno.readFile(`${dir}/h2.out`)), sha256(scramble(big)));
      });

      for (const [cluster, prefix] of [["HTTP/1.1", ""], ["HTTP/2", "/h2"]]) {
        await t.step(`100 concurrent streams on one connection → ${cluster} cluster`, async () => {
          const session = await h2Connect(sidecar.port("web"));
          try {
            const n = 100;
            const replies = await Promise.all(
              Array.from({ length: n }, (_, i) =>
                h2Request(
                  session,
                  { ":method": "POST", ":path": `${prefix}/c/${i}` },
                  new TextEncoder().encode(`body-${i}`),
                )),
            );
            for (let i = 0; i < n; i++) {
              assert.equal(replies[i].status, 200, `stream ${i}`);
              assert.equal(new TextDecoder().decode(replies[i].body), `${i}:body-${i}`);
            }
          } finally {
            await closeSession(session);
          }
        });
      }

      await t.step("HTTP/1.1 clients → HTTP/2 cluster", async () => {
        const r = await curl([
          "--http1.1",
          "--data-binary",
          `@${dir}/big.bin`,
          "-o",
          `${dir}/h1h2.out`,
          "-D",
          `${dir}/h1h2.headers`,
          "-w",
          "%{http_version} %{http_code}",
          `${base}/h2/echo`,
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(new TextDecoder().decode(r.stdout), "1.1 201");
        const { fields } = parseCurlHeaders(await Deno.readTextFile(`${dir}/h1h2.headers`));
        assert.ok(fields.some(([k, v]) => k === "x-up-protocol" && v === "HTTP/2"));
        assert.equal(sha256(await Deno.readFile(`${dir}/h1h2.out`)), sha256(scramble(big)));

        // fetch streams a request body of unknown length (chunked on the HTTP/1.1 side).
        const small = randomBytes(100_000);
        const res = await fetch(`${base}/h2/echo`, {
          method: "POST",
          body: ReadableStream.from([small.subarray(0, 50_000), small.subarray(50_000)]),
        });
        assert.equal(res.status, 201);
        assert.equal(res.headers.get("x-up-method"), "POST");
        assert.equal(sha256(new Uint8Array(await res.arrayBuffer())), sha256(scramble(small)));
      });

      await t.step("a client that resets a streaming response cancels it upstream", async () => {
        const session = await h2Connect(sidecar.port("web"));
        try {
          const stream = session.request({ ":path": "/h2/endless" });
          stream.on("error", () => {});
          await new Promise<void>((resolve, reject) => {
            stream.once("data", () => resolve());
            stream.once("close", () => reject(new Error("closed before the first chunk")));
          });
          stream.close(http2.constants.NGHTTP2_CANCEL);
          // The route timeout (15 s) would end it too, but much later than this deadline.
          await waitFor("the upstream stream to be closed", () => endless[0]?.closed, 5_000);
        } finally {
          await closeSession(session);
        }
      });

      await t.step(
        "the route timeout also ends a response that stalls after its head",
        async () => {
          const session = await h2Connect(sidecar.port("web"));
          try {
            await assert.rejects(
              h2Request(session, { ":path": "/slow/endless" }, null, 5_000),
              /NGHTTP2_INTERNAL_ERROR|Stream closed before the response ended/,
            );
            await waitFor("the upstream stream to be cancelled", () => endless[1]?.closed, 5_000);
          } finally {
            await closeSession(session);
          }
        },
      );

      await t.step("no event listener leaks were reported", () => {
        assert.deepEqual(warnings, []);
      });
    } finally {
      process.off("warning", onWarning);
      await Deno.remove(dir, { recursive: true });
      await h1.close();
    }
  },
});
