import assert from "node:assert/strict";
import tls from "node:tls";
import { silentLogger, systemClock } from "../../src/core/mod.ts";
import {
  connectOptions,
  type IssuedSvid,
  PeerIdentityError,
  peerSpiffeId,
  SpiffeId,
  type SvidProvider,
  SvidSource,
  writeSvidFiles,
} from "../../src/security/mod.ts";
import { MetricsRegistry } from "../../src/telemetry/mod.ts";
import { waitFor, within } from "../_harness/mod.ts";
import { connect, echo, rawProvider, startMtlsServer } from "./_tls_peers.ts";
import { HOUR, testCa, testSvid } from "./_fixtures.ts";

const ca = await testCa("example.org");
const otherCa = await testCa("example.org");
const SERVER_ID = "spiffe://example.org/ns/mesh/sa/server";
const CLIENT_ID = "spiffe://example.org/ns/app/sa/client";
const serverSvid = await testSvid(ca, "/ns/mesh/sa/server");
const clientSvid = await testSvid(ca, "/ns/app/sa/client");
const server = rawProvider(serverSvid);
const client = rawProvider(clientSvid);
const expectServer = { expect: SpiffeId.parse(SERVER_ID), alpn: ["skiff-test"] };

/** Connects as `who` to a server presenting `serverCert`, expecting the usual server ID. */
async function handshake(who: SvidProvider, serverCert: SvidProvider = server) {
  const srv = await startMtlsServer(serverCert);
  try {
    const outcome = await connect(srv.port, connectOptions(who, expectServer));
    if (outcome.ok) outcome.socket.destroy();
    return { outcome, srv };
  } finally {
    await srv.close();
  }
}

Deno.test("valid SVIDs on both sides: both learn the other's SPIFFE ID over TLS 1.3", async () => {
  const srv = await startMtlsServer(server);
  try {
    const outcome = await connect(srv.port, connectOptions(client, expectServer));
    assert.ok(outcome.ok, `handshake failed: ${!outcome.ok && outcome.error}`);
    try {
      assert.equal(outcome.greeting, `hello ${CLIENT_ID} ${clientSvid.serialNumber}`);
      assert.equal(outcome.serverSerial, serverSvid.serialNumber);
      assert.equal(peerSpiffeId(outcome.socket)?.toString(), SERVER_ID);
      assert.equal(outcome.alpn, "skiff-test");
      assert.equal(outcome.socket.getProtocol(), "TLSv1.3");
      assert.equal(await echo(outcome.socket, "ping"), "ping");
    } finally {
      outcome.socket.destroy();
    }
  } finally {
    await srv.close();
  }
});

Deno.test("the expected ID may be a matcher", async () => {
  const srv = await startMtlsServer(server);
  try {
    for (
      const [expect, ok] of [
        [{ prefix: "spiffe://example.org/ns/mesh" }, true],
        [{ trust_domain: "example.org" }, true],
        [{ prefix: "spiffe://example.org/ns/me" }, false],
        [{ exact: CLIENT_ID }, false],
      ] as const
    ) {
      const outcome = await connect(srv.port, connectOptions(client, { expect }));
      if (outcome.ok) outcome.socket.destroy();
      assert.equal(outcome.ok, ok, JSON.stringify(expect));
    }
  } finally {
    await srv.close();
  }
});

Deno.test("a client without a certificate is refused", async () => {
  const srv = await startMtlsServer(server);
  try {
    const { cert: _c, key: _k, ...noCert } = connectOptions(client, expectServer);
    const outcome = await connect(srv.port, noCert);
    assert.equal(outcome.ok, false);
    assert.equal(srv.tlsErrors.length, 1);
    assert.match(srv.tlsErrors[0].message, /no certificates/);
  } finally {
    await srv.close();
  }
});

Deno.test("a client certificate from another CA is refused", async () => {
  const { outcome, srv } = await handshake(
    rawProvider(await testSvid(otherCa, "/ns/app/sa/client")),
  );
  assert.equal(outcome.ok, false);
  assert.equal(srv.tlsErrors.length, 1);
});

Deno.test("a server certificate from another CA is refused by the client", async () => {
  const { outcome } = await handshake(
    client,
    rawProvider(await testSvid(otherCa, "/ns/mesh/sa/server")),
  );
  assert.equal(outcome.ok, false);
  assert.ok(!outcome.ok && outcome.error, "the client reports a handshake error");
});

Deno.test("right CA, wrong SPIFFE ID: the client's identity check refuses the server", async () => {
  const impostor = rawProvider(await testSvid(ca, "/ns/mesh/sa/impostor"));
  const { outcome } = await handshake(client, impostor);
  assert.equal(outcome.ok, false);
  const error = !outcome.ok ? outcome.error : undefined;
  assert.ok(error instanceof PeerIdentityError, `got ${error}`);
  assert.equal(error.peer?.toString(), "spiffe://example.org/ns/mesh/sa/impostor");
  assert.match(error.message, /expected spiffe:\/\/example\.org\/ns\/mesh\/sa\/server/);
});

Deno.test("expired certificates are refused on both sides", async () => {
  const expired = (path: string) => testSvid(ca, path, { fromMs: -2 * HOUR, toMs: -HOUR });
  const asClient = await handshake(rawProvider(await expired("/ns/app/sa/client")));
  assert.equal(asClient.outcome.ok, false);
  assert.match(asClient.srv.tlsErrors[0]?.message ?? "", /./, "server saw a handshake error");
  const asServer = await handshake(client, rawProvider(await expired("/ns/mesh/sa/server")));
  assert.equal(asServer.outcome.ok, false);
});

Deno.test("not-yet-valid certificates are refused on both sides", async () => {
  const future = (path: string) => testSvid(ca, path, { fromMs: HOUR, toMs: 2 * HOUR });
  const asClient = await handshake(rawProvider(await future("/ns/app/sa/client")));
  assert.equal(asClient.outcome.ok, false);
  assert.equal(asClient.srv.tlsErrors.length, 1);
  const asServer = await handshake(client, rawProvider(await future("/ns/mesh/sa/server")));
  assert.equal(asServer.outcome.ok, false);
});

Deno.test("a CA certificate presented as a leaf is refused on both sides", async () => {
  // An intermediate CA certificate with a SPIFFE URI SAN: the TLS stack refuses it.
  const caLeaf = rawProvider(await testSvid(ca, "/ns/app/sa/client", { ca: true }));
  const issued = await handshake(caLeaf);
  assert.equal(issued.outcome.ok, false);
  assert.equal(issued.srv.tlsErrors.length, 1);
  assert.equal((await handshake(client, caLeaf)).outcome.ok, false);

  // The trust bundle's own root as leaf: node:tls accepts the chain, the SVID check refuses.
  const root = rawProvider({ certPem: ca.certPem, keyPem: ca.keyPem, bundlePem: ca.certPem });
  const asClient = await handshake(root);
  assert.equal(asClient.outcome.ok, false);
  assert.equal(asClient.srv.rejected, 1, "closed by the server's peerSpiffeId check");
  const asServer = await handshake(client, root);
  assert.equal(asServer.outcome.ok, false);
  assert.ok(!asServer.outcome.ok && asServer.outcome.error instanceof PeerIdentityError);
});

Deno.test("a TLS 1.2 client is refused", async () => {
  const srv = await startMtlsServer(server);
  try {
    const outcome = await connect(srv.port, {
      ...connectOptions(client, expectServer),
      minVersion: "TLSv1.2",
      maxVersion: "TLSv1.2",
    });
    assert.equal(outcome.ok, false);
  } finally {
    await srv.close();
  }
});

async function svidDir(svid: IssuedSvid): Promise<string> {
  const dir = await Deno.makeTempDir();
  await writeSvidFiles(dir, svid);
  return dir;
}

Deno.test("rotation: new handshakes get the new SVID and bundle, open connections carry on", async () => {
  const serverDir = await svidDir(serverSvid);
  const clientDir = await svidDir(clientSvid);
  const deps = { clock: systemClock, log: silentLogger(systemClock), debounceMs: 20 };
  using serverSource = await SvidSource.open({
    ...deps,
    dir: serverDir,
    metrics: new MetricsRegistry(),
  });
  using clientSource = await SvidSource.open({
    ...deps,
    dir: clientDir,
    metrics: new MetricsRegistry(),
  });
  serverSource.watch();
  clientSource.watch();
  const srv = await startMtlsServer(serverSource);
  const open: tls.TLSSocket[] = [];
  try {
    const before = await connect(srv.port, connectOptions(clientSource, expectServer));
    assert.ok(before.ok);
    open.push(before.socket);
    assert.equal(before.serverSerial, serverSvid.serialNumber);

    // Traffic keeps flowing on the open connection while both sides rotate.
    let echoes = 0;
    let stop = false;
    const traffic = (async () => {
      while (!stop) {
        assert.equal(await echo(before.socket, `msg ${echoes}`), `msg ${echoes}`);
        echoes++;
      }
    })();

    const nextServer = await testSvid(ca, "/ns/mesh/sa/server");
    const nextClient = await testSvid(ca, "/ns/app/sa/client");
    // The server's new bundle also trusts otherCa. The agent-style writes land one file at
    // a time, so wait for the final state rather than the first change.
    const newBundle = ca.certPem + otherCa.certPem;
    await writeSvidFiles(serverDir, { ...nextServer, bundlePem: newBundle });
    await writeSvidFiles(clientDir, nextClient);
    await waitFor(
      "both sources rotated",
      () =>
        serverSource.current().serialNumber === nextServer.serialNumber &&
        serverSource.current().ca === newBundle &&
        clientSource.current().serialNumber === nextClient.serialNumber,
    );
    const echoesAtRotation = echoes;

    const after = await connect(srv.port, connectOptions(clientSource, expectServer));
    assert.ok(after.ok);
    open.push(after.socket);
    assert.equal(after.serverSerial, nextServer.serialNumber, "server presents the new SVID");
    assert.equal(after.greeting, `hello ${CLIENT_ID} ${nextClient.serialNumber}`);

    const fromOtherCa = await connect(
      srv.port,
      connectOptions(
        rawProvider({ ...await testSvid(otherCa, "/ns/app/sa/x"), bundlePem: ca.certPem }),
        {
          expect: { trust_domain: "example.org" },
        },
      ),
    );
    assert.ok(fromOtherCa.ok, "the rotated bundle is used to verify clients");
    open.push(fromOtherCa.socket);

    // The connection opened before the rotation still works, with the old certificates.
    await within(
      "traffic after the rotation",
      (async () => {
        while (echoes <= echoesAtRotation) await new Promise((r) => before.socket.once("data", r));
      })(),
      10_000,
    );
    stop = true;
    await traffic;
    assert.equal(await echo(before.socket, "still here"), "still here");
    assert.equal(
      before.socket.getPeerCertificate().serialNumber.toLowerCase(),
      serverSvid.serialNumber,
    );
  } finally {
    for (const s of open) s.destroy();
    await srv.close();
    await Deno.remove(serverDir, { recursive: true });
    await Deno.remove(clientDir, { recursive: true });
  }
});
