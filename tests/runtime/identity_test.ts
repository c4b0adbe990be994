import assert from "node:assert/strict";
import { writeSvidFiles } from "../../src/security/mod.ts";
import { startSidecar } from "../_harness/mod.ts";
import { HOUR, testCa, testSvid } from "../security/_fixtures.ts";

Deno.test("identity: the SVID is loaded, its expiry is in /metrics, and gossip announces its ID", async () => {
  const dir = await Deno.makeTempDir({ prefix: "skiff_identity_" });
  try {
    const ca = await testCa("shop.test");
    const now = Date.now();
    const svid = await testSvid(ca, "/ns/prod/sa/orders", { now, toMs: 2 * HOUR });
    await writeSvidFiles(dir, svid);
    await using s = await startSidecar(`admin: { address: "127.0.0.1:0" }
listeners: [{ name: in, address: "127.0.0.1:0", routes: [] }]
identity: { dir: "${dir}" }
gossip: { name: orders-1, bind: "127.0.0.1:0" }
`);
    const metrics = await (await fetch(`${s.adminUrl}/metrics`)).text();
    const expiry = metrics.match(/^skiff_svid_expiry_timestamp_seconds(?:\{[^}]*\})? (\S+)$/m);
    assert.ok(expiry, metrics);
    assert.equal(Number(expiry[1]), Math.floor((now + 2 * HOUR) / 1000));
    const members = await (await fetch(`${s.adminUrl}/members`)).json();
    assert.equal(members.members[0].name, "orders-1");
    assert.equal(members.members[0].spiffe_id, "spiffe://shop.test/ns/prod/sa/orders");
    assert.ok(s.logs.some((l) => l.msg === "identity loaded"), JSON.stringify(s.logs));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("identity: a directory without a valid SVID stops skiff from starting, saying why", async () => {
  const dir = await Deno.makeTempDir({ prefix: "skiff_identity_" });
  try {
    await assert.rejects(
      startSidecar(`listeners: [{ name: in, address: "127.0.0.1:0", routes: [] }]
identity: { dir: "${dir}" }
`),
      /svid/i,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
