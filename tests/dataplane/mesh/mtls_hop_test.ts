// The mesh hop's two ends over real TLS 1.3 on loopback: skiff's acceptor and connector,
// with SVIDs from a development CA.
import assert from "node:assert/strict";
import { MtlsAcceptor, type MtlsConn } from "../../../src/dataplane/mesh/mtls_acceptor.ts";
import { mtlsConnect } from "../../../src/dataplane/mesh/mtls_connector.ts";
import { TimeoutError } from "../../../src/core/abort.ts";
import { PeerIdentityError, SpiffeId } from "../../../src/security/mod.ts";
import { testCa, testSvid } from "../../security/_fixtures.ts";
import { rawProvider } from "../../security/_tls_peers.ts";
import { waitFor } from "../../_harness/mod.ts";

const ca = await testCa("mesh.test");
const api = rawProvider(await testSvid(ca, "/ns/prod/sa/api"));
const web = rawProvider(await testSvid(ca, "/ns/prod/sa/web"));
const API = SpiffeId.parse("spiffe://mesh.test/ns/prod/sa/api");
const LOOPBACK = { hostname: "127.0.0.1", port: 0 };

async function acceptor(refusals: string[] = []) {
  return await MtlsAcceptor.listen({
    address: LOOPBACK,
    source: api,
    alpn: ["h2", "http/1.1"],
    onRefused: (reason) => refusals.push(reason),
  });
}

async function readAll(conn: { read(p: Uint8Array): Promise<number | null> }): Promise<string> {
  const buf = new Uint8Array(64);
  let text = "";
  for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
  return text;
}

Deno.test("mesh hop: both ends know each other's SPIFFE ID; bytes flow both ways with half-close", async () => {
  const server = await acceptor();
  try {
    const accepted = server.accept();
    const client = await mtlsConnect({ hostname: "127.0.0.1", port: server.addr.port }, {
      source: web,
      expect: API,
      alpn: ["h2"],
      timeoutMs: 10_000,
    });
    const inbound = (await accepted) as MtlsConn;
    assert.equal(client.peer.toString(), "spiffe://mesh.test/ns/prod/sa/api");
    assert.equal(inbound.peer.toString(), "spiffe://mesh.test/ns/prod/sa/web");
    assert.equal(client.alpn, "h2");
    assert.equal(inbound.alpn, "h2");
    await client.conn.write(new TextEncoder().encode("request"));
    await client.conn.closeWrite();
    assert.equal(await readAll(inbound.conn), "request");
    await inbound.conn.write(new TextEncoder().encode("response after the client's end"));
    await inbound.conn.closeWrite();
    assert.equal(await readAll(client.conn), "response after the client's end");
    client.conn.close();
    inbound.conn.close();
  } finally {
    server.close();
  }
});

Deno.test("mesh hop: the caller refuses a server with another SPIFFE ID", async () => {
  const server = await acceptor();
  try {
    const err = await mtlsConnect({ hostname: "127.0.0.1", port: server.addr.port }, {
      source: web,
      expect: { exact: "spiffe://mesh.test/ns/prod/sa/payments" },
      alpn: ["h2"],
      timeoutMs: 10_000,
    }).then(() => undefined, (e) => e);
    assert.ok(err instanceof PeerIdentityError, String(err));
    assert.equal(err.peer?.toString(), API.toString());
  } finally {
    server.close();
  }
});

for (
  const [what, client, reason] of [
    [
      "a client whose certificate comes from another CA",
      async () => {
        const stranger = await testSvid(await testCa("mesh.test"), "/ns/prod/sa/web");
        // It trusts the server (our bundle), so only the server can refuse it.
        return rawProvider({ ...stranger, bundlePem: ca.certPem });
      },
      ["untrusted", "handshake_aborted"],
    ],
    [
      "a client presenting the CA's root as its leaf",
      () =>
        Promise.resolve(
          rawProvider({ certPem: ca.certPem, keyPem: ca.keyPem, bundlePem: ca.certPem }),
        ),
      ["not_svid"],
    ],
  ] as const
) {
  Deno.test(`mesh hop: the acceptor refuses ${what} and never hands it out`, async () => {
    const refusals: string[] = [];
    const server = await acceptor(refusals);
    try {
      const source = await client();
      const outcome = await mtlsConnect({ hostname: "127.0.0.1", port: server.addr.port }, {
        source,
        expect: { any: true },
        alpn: ["h2"],
        timeoutMs: 10_000,
      }).then(async (c) => {
        // TLS 1.3: the client finishes first; the refusal shows as the server closing.
        const n = await c.conn.read(new Uint8Array(1)).catch(() => null);
        c.conn.close();
        return n === null ? "closed" : "data";
      }, () => "handshake failed");
      assert.notEqual(outcome, "data");
      await waitFor(`the acceptor to count the refusal`, () => refusals.length > 0);
      assert.equal(refusals.length, 1, refusals.join());
      assert.ok((reason as readonly string[]).includes(refusals[0]), `refused as ${refusals[0]}`);
      const next = server.accept();
      server.close();
      assert.equal(await next, null, "nothing was handed out");
    } finally {
      server.close();
    }
  });
}

Deno.test("mesh hop: at the gate's limit a connection is closed before its handshake", async () => {
  const refusals: string[] = [];
  let limit = 2;
  let overflows = 0;
  const server = await MtlsAcceptor.listen({
    address: LOOPBACK,
    source: api,
    alpn: ["h2"],
    onRefused: (reason) => refusals.push(reason),
    gate: { maxConnections: () => limit, onOverflow: () => overflows++ },
  });
  const open: { close(): void }[] = [];
  try {
    // Two connections open (one still waiting in the acceptor, never taken): the limit.
    open.push((await callApi(server.addr.port, 10_000)).conn);
    open.push((await callApi(server.addr.port, 10_000)).conn);
    await waitFor("both connections counted", () => server.connections === 2);
    const first = (await server.accept())!;
    // A third gets no handshake at all: no certificate of ours, no refused handshake.
    await assert.rejects(callApi(server.addr.port, 10_000));
    await waitFor("the overflow to be counted", () => overflows === 1);
    assert.deepEqual(refusals, [], "closed at the limit, not a refused handshake");
    assert.equal(server.connections, 2);
    // Our side of a connection closing frees its place.
    first.conn.close();
    await waitFor("the closed connection to leave the count", () => server.connections === 1);
    open.push((await callApi(server.addr.port, 10_000)).conn);
    // A reload raising the limit applies to the next connection.
    limit = 3;
    open.push((await callApi(server.addr.port, 10_000)).conn);
    assert.equal(overflows, 1);
  } finally {
    for (const c of open) c.close();
    server.close();
  }
});

Deno.test("mesh hop: a peer that never finishes the handshake times out; a closed port fails", async () => {
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const c of silent) held.push(c);
  })();
  try {
    await assert.rejects(callApi(silent.addr.port, 200), TimeoutError);
  } finally {
    silent.close();
    for (const c of held) c.close();
    await accepting.catch(() => {});
  }
  await assert.rejects(callApi(silent.addr.port, 10_000));
});

/** web calling api on `port`. */
function callApi(port: number, timeoutMs: number) {
  return mtlsConnect({ hostname: "127.0.0.1", port }, {
    source: web,
    expect: API,
    alpn: ["h2"],
    timeoutMs,
  });
}

Deno.test("mesh hop: a large upload's end of stream reaches a slow reader", async () => {
  const server = await acceptor();
  try {
    const accepted = server.accept();
    const client = await callApi(server.addr.port, 10_000);
    const inbound = (await accepted) as MtlsConn;
    // The whole upload is handed over and half-closed before the server reads a byte.
    const size = 2 * 1024 * 1024;
    const chunk = new Uint8Array(64 * 1024).fill(7);
    for (let sent = 0; sent < size; sent += chunk.length) await client.conn.write(chunk);
    await client.conn.closeWrite();
    const deadline = setTimeout(() => inbound.conn.close(), 20_000); // a lost end must fail
    try {
      const buf = new Uint8Array(16 * 1024);
      let got = 0;
      for (let n = await inbound.conn.read(buf); n !== null; n = await inbound.conn.read(buf)) {
        got += n;
        // A slow consumer (e.g. an upstream that takes its time): a macrotask per chunk.
        await new Promise((r) => setTimeout(r, 2));
      }
      assert.equal(got, size);
    } finally {
      clearTimeout(deadline);
    }
    client.conn.close();
    inbound.conn.close();
  } finally {
    server.close();
  }
});
