// Outbound mesh hop: skiff calls a peer sidecar over HTTP/2 on mutual TLS 1.3, presenting its
// SVID and accepting the peer only with the SPIFFE ID expected for the endpoint.
import assert from "node:assert/strict";
import http2 from "node:http2";
import type { TLSSocket } from "node:tls";
import {
  type IssuedSvid,
  peerSpiffeId,
  serverOptions,
  writeSvidFiles,
} from "../../src/security/mod.ts";
import { startSidecar } from "../_harness/mod.ts";
import { testCa, testSvid } from "../security/_fixtures.ts";
import { rawProvider } from "../security/_tls_peers.ts";

const ca = await testCa("mesh.test");
const WEB = "spiffe://mesh.test/ns/prod/sa/web";
const API = "spiffe://mesh.test/ns/prod/sa/api";

/** A peer sidecar's mTLS port: HTTP/2 only, answering with the caller's SPIFFE ID. */
async function peerSidecar(svid: IssuedSvid) {
  const server = http2.createSecureServer({
    ...serverOptions(rawProvider(svid), { alpn: ["h2"] }),
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    const peer = peerSpiffeId(stream.session!.socket as TLSSocket);
    stream.respond({ ":status": 200, "x-peer": String(peer) });
    stream.end(`${headers[":method"]} ${headers[":path"]} from ${peer}`);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: async () => {
      for (const s of sessions) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

async function withSkiff(
  cluster: string,
  fn: (url: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "skiff_mesh_" });
  try {
    await writeSvidFiles(dir, await testSvid(ca, "/ns/prod/sa/web"));
    await using s = await startSidecar(`listeners:
  - name: out
    address: 127.0.0.1:0
    routes: [{ cluster: api, timeout: 10s }]
clusters:
${cluster}
identity: { dir: "${dir}" }
`);
    await fn(s.url("out"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("mesh: a request travels over mTLS to the peer, which sees skiff's SPIFFE ID", async () => {
  const peer = await peerSidecar(await testSvid(ca, "/ns/prod/sa/api"));
  try {
    await withSkiff(
      `  - name: api
    tls: { mode: mtls }
    endpoints: [{ address: "127.0.0.1:${peer.port}", spiffe_id: "${API}" }]`,
      async (url) => {
        for (let i = 0; i < 3; i++) {
          const r = await fetch(`${url}/orders/${i}`);
          assert.equal(r.status, 200);
          assert.equal(await r.text(), `GET /orders/${i} from ${WEB}`);
        }
      },
    );
  } finally {
    await peer.close();
  }
});

Deno.test("mesh: a peer with another SPIFFE ID gets no request; the caller gets a 503 saying why", async () => {
  const impostor = await peerSidecar(await testSvid(ca, "/ns/prod/sa/impostor"));
  try {
    await withSkiff(
      `  - name: api
    tls: { mode: mtls, expect: { prefix: "spiffe://mesh.test/ns/prod/sa/api" } }
    endpoints: [{ address: "127.0.0.1:${impostor.port}" }]`,
      async (url) => {
        const r = await fetch(`${url}/orders`);
        assert.equal(r.status, 503);
        assert.equal(r.headers.get("x-skiff-error"), "upstream_identity");
        assert.match(await r.text(), /impostor/);
      },
    );
  } finally {
    await impostor.close();
  }
});

Deno.test("mesh: an endpoint's own SPIFFE ID must also satisfy the cluster's tls.expect", async () => {
  const impostor = await peerSidecar(await testSvid(ca, "/ns/prod/sa/impostor"));
  try {
    await withSkiff(
      `  - name: api
    tls: { mode: mtls, expect: { prefix: "spiffe://mesh.test/ns/prod/sa/api" } }
    endpoints:
      - address: "127.0.0.1:${impostor.port}"
        spiffe_id: spiffe://mesh.test/ns/prod/sa/impostor`,
      async (url) => {
        const r = await fetch(`${url}/orders`);
        assert.equal(r.status, 503);
        assert.equal(r.headers.get("x-skiff-error"), "upstream_identity");
        assert.match(await r.text(), /tls\.expect does not accept/);
      },
    );
  } finally {
    await impostor.close();
  }
});
