// The fast path relays an upstream response's field lines from a scratch buffer of the upstream
// connection. A bodyless response hands the connection to the next queued request at once, and
// that request may scan what the upstream already sent before the first client's head is
// written: each client must still get its own response's fields.
import assert from "node:assert/strict";
import { oneRouteConfig, RawConn, startSidecar, startTcpServer, waitFor } from "../_harness/mod.ts";
import { clusterView } from "./_admin_api.ts";

Deno.test({
  name: "a bodyless response keeps its own field lines when a queued request reuses the connection",
  async fn() {
    const gate = Promise.withResolvers<void>();
    const sawA = Promise.withResolvers<void>();
    await using up = startTcpServer(async (conn) => {
      const c = new RawConn(conn);
      await c.readUntil("\r\n\r\n"); // request A
      sawA.resolve();
      await gate.promise;
      // A's 204, and right behind it in the same write the response the next request on
      // this connection is going to read (an upstream answering early, or a HEAD body).
      await c.send(
        "HTTP/1.1 204 No Content\r\nX-Owner: request-A\r\n\r\n" +
          "HTTP/1.1 200 OK\r\nX-Owner: request-B\r\nContent-Length: 0\r\n\r\n",
      );
      await c.readUntil("\r\n\r\n"); // request B (already answered above)
      await c.readToEnd(30_000);
    });
    try {
      await using s = await startSidecar(
        oneRouteConfig(up.port).replace(
          /(endpoints: \[.*\])/,
          "$1\n    pool: { max_connections: 1, max_pending_requests: 5 }",
        ),
      );
      await using a = await RawConn.connect(s.port("web"));
      await using b = await RawConn.connect(s.port("web"));
      await a.send("GET /a HTTP/1.1\r\nHost: app\r\n\r\n");
      await sawA.promise;
      await b.send("GET /b HTTP/1.1\r\nHost: app\r\n\r\n");
      await waitFor(
        "request B to queue behind A",
        async () => (await clusterView(s.adminUrl, "app")).endpoints[0].connections?.pending === 1,
      );
      gate.resolve();
      const resA = await a.readResponse({ timeoutMs: 5_000 });
      assert.equal(resA.status, 204);
      assert.equal(resA.header("x-owner"), "request-A", `client A got:\n${resA.head}`);
    } finally {
      gate.resolve();
    }
  },
});
