// The whole mesh hop: app client → skiff A (outbound, cluster on mtls) → HTTP/2 over mutual
// TLS 1.3 → skiff B (inbound listener on mtls, authorization policy) → local app. Two real
// sidecars in this process, real TLS on loopback, SVIDs from a development CA.
import assert from "node:assert/strict";
import tls from "node:tls";
import {
  connectOptions,
  type IssuedSvid,
  SpiffeId,
  writeSvidFiles,
} from "../../src/security/mod.ts";
import { startHttpUpstream, startSidecar, type TestSidecar, waitFor } from "../_harness/mod.ts";
import { metric, metricsText } from "./_admin_api.ts";
import { testCa, testSvid } from "../security/_fixtures.ts";
import { rawProvider } from "../security/_tls_peers.ts";

const ca = await testCa("mesh.test");
const WEB = "spiffe://mesh.test/ns/prod/sa/web";
const API = "spiffe://mesh.test/ns/prod/sa/api";

async function svidDir(svid: IssuedSvid): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "skiff_mesh_in_" });
  await writeSvidFiles(dir, svid);
  return dir;
}

/** skiff B: the api's sidecar, mTLS in front of the app, with an authorization policy. */
function inbound(
  dir: string,
  appPort: number,
  tcpPort: number,
  accessLog: string,
): Promise<TestSidecar> {
  return startSidecar(`admin: { address: "127.0.0.1:0" }
access_log: { sink: file, path: "${accessLog}" }
listeners:
  - name: mesh-in
    address: 127.0.0.1:0
    tls: { mode: mtls }
    authz:
      rules:
        - { action: deny, paths: [{ prefix: /admin }] }
        - from: [{ exact: "${WEB}" }]
          methods: [GET]
          paths: [{ prefix: /orders }]
    routes:
      - name: reports
        match: { prefix: /orders/reports }
        cluster: app
        authz: { rules: [{ from: [{ exact: "spiffe://mesh.test/ns/prod/sa/finance" }] }] }
      - { name: all, cluster: app }
  - name: closed-tcp
    address: 127.0.0.1:0
    protocol: tcp
    authz: { rules: [{ action: deny }] }
    tcp: { cluster: tcp-app }
  - name: mesh-tcp
    address: 127.0.0.1:0
    protocol: tcp
    tls: { mode: mtls }
    authz: { rules: [{ from: [{ exact: "${WEB}" }] }] }
    tcp: { cluster: tcp-app }
clusters:
  - name: app
    endpoints: [{ address: "127.0.0.1:${appPort}" }]
  - name: tcp-app
    endpoints: [{ address: "127.0.0.1:${tcpPort}" }]
identity: { dir: "${dir}" }
`);
}

/** skiff A: the web's sidecar, calling the api over the mesh (HTTP and TCP). */
function outbound(dir: string, meshPort: number, meshTcpPort: number): Promise<TestSidecar> {
  return startSidecar(`listeners:
  - name: out
    address: 127.0.0.1:0
    routes: [{ cluster: api, timeout: 10s }]
  - name: out-tcp
    address: 127.0.0.1:0
    protocol: tcp
    tcp: { cluster: api-tcp }
clusters:
  - name: api
    tls: { mode: mtls }
    endpoints: [{ address: "127.0.0.1:${meshPort}", spiffe_id: "${API}" }]
  - name: api-tcp
    tls: { mode: mtls, expect: { exact: "${API}" } }
    endpoints: [{ address: "127.0.0.1:${meshTcpPort}" }]
identity: { dir: "${dir}" }
`);
}

/** A TCP echo server for the TCP mesh listener. */
function tcpEcho() {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const done = (async () => {
    for await (const c of l) {
      conns.add(c);
      c.readable.pipeTo(c.writable).catch(() => {}).finally(() => conns.delete(c));
    }
  })().catch(() => {});
  return {
    port: l.addr.port,
    close: async () => {
      l.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await done;
    },
  };
}

/** A TLS client on the TCP mesh listener: the echo of `text`, or how the handshake ended. */
function tcpThroughMesh(port: number, svid: IssuedSvid, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      ...connectOptions(rawProvider(svid), {
        expect: SpiffeId.parse(API),
        alpn: ["skiff-tcp"],
      }),
    });
    let got = "";
    socket.on("secureConnect", () => socket.write(text));
    socket.on("data", (d) => {
      got += d.toString();
      if (got.length >= text.length) {
        socket.end();
        resolve(got);
      }
    });
    socket.on("error", (e) => resolve(`error: ${e.message}`));
    socket.on("close", () => resolve(got === "" ? "closed" : got));
  });
}

Deno.test("mesh: app → skiff → mTLS → skiff → app, with identities, XFCC and authorization", async () => {
  await using app = startHttpUpstream(
    "orders",
    (req) => new Response(`xfcc=${req.headers.get("x-forwarded-client-cert")}`),
  );
  const echo = tcpEcho();
  const webSvid = await testSvid(ca, "/ns/prod/sa/web");
  const apiDir = await svidDir(await testSvid(ca, "/ns/prod/sa/api"));
  const webDir = await svidDir(webSvid);
  const accessLog = await Deno.makeTempFile({ prefix: "skiff_mesh_access_" });
  try {
    await using b = await inbound(apiDir, app.port, echo.port, accessLog);
    const meshPort = b.port("mesh-in");
    await using a = await outbound(webDir, meshPort, b.port("mesh-tcp"));

    // Allowed: GET /orders… from web. The app sees who called, vouched for by B.
    const ok = await fetch(`${a.url("out")}/orders/7`, {
      headers: { "x-forwarded-client-cert": "By=spiffe://forged;URI=spiffe://forged" },
    });
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), `xfcc=By=${API};URI=${WEB}`);
    const line = await waitFor("B's access-log line of the request", async () => {
      const text = await Deno.readTextFile(accessLog).catch(() => "");
      return text.split("\n").filter(Boolean).map((l) => JSON.parse(l)).find((l) =>
        l.path === "/orders/7"
      );
    });
    assert.equal(line.downstream_peer_uri_san, WEB);

    // Denied by method, by path (deny rule first), and nothing reaches the app.
    const before = app.requests.length;
    for (
      const [method, path] of [
        ["POST", "/orders/7"],
        ["GET", "/admin/x"],
        ["GET", "/x"],
        ["GET", "/orders/reports/2026"], // the listener allows it, the route's policy does not
        ["GET", "/orders/%61dmin"], // not in normal form: the app might read it otherwise
      ]
    ) {
      const r = await fetch(`${a.url("out")}${path}`, {
        method,
        body: method === "POST" ? "x" : undefined,
      });
      assert.equal(r.status, 403, `${method} ${path}`);
      assert.equal(r.headers.get("x-skiff-error"), "forbidden");
      assert.match(await r.text(), new RegExp(`${WEB} may not ${method} ${path}`));
    }
    assert.equal(app.requests.length, before, "denied requests never reach the app");
    const metrics = await (await fetch(`${b.adminUrl}/metrics`)).text();
    assert.match(metrics, /skiff_authz_denied_total\{listener="mesh-in"\} 5\n/);
    assert.ok(b.logs.some((l) => l.msg === "request denied" && l.peer === WEB), "logged");

    // A client with no certificate, or one from another CA, never gets in.
    const plain = await fetch(`http://127.0.0.1:${meshPort}/orders/1`).then(
      (r) => `status ${r.status}`,
      () => "refused",
    );
    assert.equal(plain, "refused");
    const stranger = await testSvid(await testCa("mesh.test"), "/ns/prod/sa/web");
    const outcome = await tcpThroughMesh(
      b.port("mesh-tcp"),
      { ...stranger, bundlePem: ca.certPem },
      "hello",
    );
    assert.notEqual(outcome, "hello");
    await waitFor("B to count the refused handshakes", async () => {
      const m = await (await fetch(`${b.adminUrl}/metrics`)).text();
      return /skiff_mtls_refused_total\{listener="mesh-tcp",reason="[a-z_]+"\} [1-9]/.test(m);
    });

    // TCP over the mesh: web may, another workload of the trust domain may not.
    assert.equal(
      await tcpThroughMesh(b.port("mesh-tcp"), webSvid, "ping over tcp"),
      "ping over tcp",
    );
    // And through skiff A's plain TCP listener: app → A → mTLS (skiff's TCP ALPN) → B → echo.
    const plainTcp = await Deno.connect({ hostname: "127.0.0.1", port: a.port("out-tcp") });
    try {
      await plainTcp.write(new TextEncoder().encode("tcp via two sidecars"));
      await plainTcp.closeWrite();
      const back = new TextDecoder().decode(
        await new Response(plainTcp.readable).arrayBuffer(),
      );
      assert.equal(back, "tcp via two sidecars");
    } finally {
      try {
        plainTcp.close();
      } catch { /* closed by reading to the end */ }
    }
    // A plain TCP listener's policy holds too: this one denies every connection.
    const denied = await Deno.connect({ hostname: "127.0.0.1", port: b.port("closed-tcp") });
    try {
      await denied.write(new TextEncoder().encode("anyone?")).catch(() => 0);
      assert.equal(await denied.read(new Uint8Array(16)).catch(() => null), null);
    } finally {
      denied.close();
    }
    assert.match(
      await (await fetch(`${b.adminUrl}/metrics`)).text(),
      /skiff_authz_denied_total\{listener="closed-tcp"\} 1\n/,
    );
    const batch = await testSvid(ca, "/ns/prod/sa/batch");
    assert.equal(await tcpThroughMesh(b.port("mesh-tcp"), batch, "ping"), "closed");
  } finally {
    await echo.close();
    await Deno.remove(apiDir, { recursive: true });
    await Deno.remove(webDir, { recursive: true });
    await Deno.remove(accessLog);
  }
});

/** The serial of the certificate a fresh mTLS handshake with `port` sees. */
function serverSerial(port: number, client: IssuedSvid): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      ...connectOptions(rawProvider(client), { expect: { any: true }, alpn: ["h2"] }),
    });
    socket.once("secureConnect", () => {
      resolve(socket.getPeerCertificate().serialNumber.toLowerCase());
      socket.destroy();
    });
    socket.once("error", reject);
  });
}

Deno.test("mesh: rotating the server's SVID mid-traffic fails no request; new handshakes get it", async () => {
  await using app = startHttpUpstream("orders");
  const echo = tcpEcho();
  const webSvid = await testSvid(ca, "/ns/prod/sa/web");
  const first = await testSvid(ca, "/ns/prod/sa/api");
  const apiDir = await svidDir(first);
  const webDir = await svidDir(webSvid);
  const accessLog = await Deno.makeTempFile({ prefix: "skiff_mesh_access_" });
  try {
    await using b = await inbound(apiDir, app.port, echo.port, accessLog);
    await using a = await outbound(webDir, b.port("mesh-in"), b.port("mesh-tcp"));
    assert.equal(await serverSerial(b.port("mesh-in"), webSvid), first.serialNumber);

    // Requests through A → B, one after another, until told to stop (at most 20,000).
    let stop = false;
    let sent = 0;
    const failures: string[] = [];
    const traffic = (async () => {
      while (!stop && sent < 20_000) {
        sent++;
        try {
          const r = await fetch(`${a.url("out")}/orders/${sent}`);
          const body = await r.text();
          if (r.status !== 200 || body !== "orders") failures.push(`${r.status} ${body}`);
        } catch (err) {
          failures.push(String(err));
        }
      }
    })();
    await waitFor("traffic to flow", () => sent > 50);
    const next = await testSvid(ca, "/ns/prod/sa/api");
    await writeSvidFiles(apiDir, next);
    await waitFor(
      "a new handshake to present the rotated SVID",
      async () => (await serverSerial(b.port("mesh-in"), webSvid)) === next.serialNumber,
      20_000,
    );
    const after = sent;
    await waitFor("more requests after the rotation", () => sent > after + 100);
    stop = true;
    await traffic;
    assert.deepEqual(failures, [], `${failures.length} of ${sent} requests failed`);
    const metrics = await (await fetch(`${b.adminUrl}/metrics`)).text();
    assert.match(metrics, /^skiff_svid_rotations_total 1$/m);
  } finally {
    await echo.close();
    await Deno.remove(apiDir, { recursive: true });
    await Deno.remove(webDir, { recursive: true });
    await Deno.remove(accessLog);
  }
});

/** A TLS connection to an mTLS listener: the socket once its handshake is done, or why not. */
function meshConnect(port: number, svid: IssuedSvid): Promise<tls.TLSSocket | string> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      ...connectOptions(rawProvider(svid), { expect: SpiffeId.parse(API), alpn: ["http/1.1"] }),
    });
    socket.on("secureConnect", () => resolve(socket));
    socket.on("error", (e) => resolve(`error: ${e.message}`));
    socket.on("close", () => resolve("closed"));
  });
}

Deno.test("mesh: an mTLS listener at max_connections closes a connection before its handshake", async () => {
  const dir = await svidDir(await testSvid(ca, "/ns/prod/sa/api"));
  const web = await testSvid(ca, "/ns/prod/sa/web");
  await using app = startHttpUpstream("app");
  await using s = await startSidecar(`admin: { address: "127.0.0.1:0" }
listeners:
  - name: mesh-in
    address: 127.0.0.1:0
    tls: { mode: mtls }
    limits: { max_connections: 1 }
    routes: [{ cluster: app }]
clusters:
  - name: app
    endpoints: [{ address: "127.0.0.1:${app.port}" }]
identity: { dir: "${dir}" }
`);
  const port = s.port("mesh-in");
  const held = await meshConnect(port, web);
  assert.ok(typeof held !== "string", `the first connection: ${held}`);
  try {
    const second = await meshConnect(port, web);
    assert.equal(typeof second, "string", "the second connection got no handshake");
    await waitFor(
      "the overflow on /metrics",
      async () =>
        (await metric(s, "skiff_errors_total", { listener: "mesh-in", reason: "overflow" })) === 1,
    );
    // Closed at the limit, not a refused handshake.
    assert.ok(!(await metricsText(s.adminUrl)).includes("skiff_mtls_refused_total{"));
  } finally {
    held.destroy();
  }
  // Once the first one is gone, there is room again.
  await waitFor("a connection after the first closed", async () => {
    const next = await meshConnect(port, web);
    if (typeof next === "string") return false;
    next.destroy();
    return true;
  });
});
