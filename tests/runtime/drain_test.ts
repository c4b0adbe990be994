import assert from "node:assert/strict";
import { RawConn, startHttpUpstream, startSidecar, waitFor } from "../_harness/mod.ts";

const TEST_OPTS = { sanitizeOps: false, sanitizeResources: false };

function config(upstream: number, drain = ""): string {
  return `
admin: { address: "127.0.0.1:0" }
${drain}
listeners:
  - name: web
    address: 127.0.0.1:0
    routes: [{ cluster: app }]
clusters:
  - name: app
    endpoints: [{ address: "127.0.0.1:${upstream}" }]
`;
}

Deno.test(
  "drain: in-flight requests finish, keep-alive clients are told to close, then it stops",
  TEST_OPTS,
  async () => {
    const gate = Promise.withResolvers<void>();
    const arrived = Promise.withResolvers<void>();
    await using up = startHttpUpstream("up", async (req) => {
      if (new URL(req.url).pathname === "/slow") {
        arrived.resolve();
        await gate.promise;
      }
      return new Response("done");
    });
    await using s = await startSidecar(config(up.port));
    const port = s.port("web");
    // A keep-alive connection with one request done, then idle.
    await using idle = await RawConn.connect(port);
    await idle.send("GET / HTTP/1.1\r\nhost: a\r\n\r\n");
    assert.equal((await idle.readResponse()).status, 200);
    await using busy = await RawConn.connect(port);
    await busy.send("GET /slow HTTP/1.1\r\nhost: a\r\n\r\n");
    await arrived.promise;
    const drained = s.sidecar.drain("test");
    assert.equal(s.sidecar.ready, false);
    await waitFor("the port refuses new connections", async () => {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        return false;
      } catch {
        return true;
      }
    });
    gate.resolve();
    const res = await busy.readResponse();
    assert.equal(res.status, 200);
    assert.equal(res.header("connection"), "close");
    assert.equal(res.text(), "done");
    // The idle keep-alive connection is closed (after drain.idle_timeout): end of stream.
    assert.equal((await idle.readToEnd()).length, 0);
    await drained;
  },
);

Deno.test("drain: what is still open at drain.timeout is closed", TEST_OPTS, async () => {
  const arrived = Promise.withResolvers<void>();
  const never = Promise.withResolvers<Response>();
  await using up = startHttpUpstream("up", () => {
    arrived.resolve();
    return never.promise;
  });
  await using s = await startSidecar(config(up.port, "drain: { timeout: 200ms }"));
  await using conn = await RawConn.connect(s.port("web"));
  await conn.send("GET / HTTP/1.1\r\nhost: a\r\n\r\n");
  await arrived.promise;
  await s.sidecar.drain("test");
  // The stuck request's connection was closed at the deadline, without a response.
  assert.equal((await conn.readToEnd()).length, 0);
  assert.ok(
    s.logs.some((l) => l.msg === "drain timeout: closing the connections still open"),
    "the forced close is logged",
  );
  never.resolve(new Response("too late"));
});
