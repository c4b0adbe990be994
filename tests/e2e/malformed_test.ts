// End-to-end: malformed and request-smuggling attempts over raw TCP get the right 4xx, the
// connection is closed, the metric counts them, nothing reaches the upstream, and skiff
// keeps serving other clients.
import assert from "node:assert/strict";
import {
  oneRouteConfig,
  RawConn,
  startHttpUpstream,
  startSidecar,
  waitFor,
} from "../_harness/mod.ts";
import { metricsText, sample } from "./_admin_api.ts";

const CASES: { name: string; wire: string; status: number; reason: string }[] = [
  {
    name: "Content-Length together with Transfer-Encoding (CL.TE smuggling)",
    wire: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
    status: 400,
    reason: "cl_te",
  },
  {
    name: "lines ending in a bare LF",
    wire: "GET / HTTP/1.1\nHost: a\n\n",
    status: 400,
    reason: "bare_lf",
  },
  {
    name: "an obs-fold continuation line",
    wire: "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n",
    status: 400,
    reason: "obs_fold",
  },
  {
    name: "a chunk size that is not hex",
    wire:
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    status: 400,
    reason: "bad_chunk_size",
  },
  {
    name: "two Host fields",
    wire: "GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n",
    status: 400,
    reason: "bad_host",
  },
  {
    name: "no Host on HTTP/1.1",
    wire: "GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n",
    status: 400,
    reason: "bad_host",
  },
  {
    name: "conflicting Content-Length values",
    wire: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabc",
    status: 400,
    reason: "duplicate_content_length",
  },
  {
    name: "a Transfer-Encoding that does not end in chunked",
    wire: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
    status: 400,
    reason: "bad_transfer_encoding",
  },
  {
    name: "a transfer coding before chunked that skiff cannot undo",
    wire: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    status: 501,
    reason: "unsupported_transfer_coding",
  },
];

Deno.test("malformed requests get a 4xx, a closed connection and a metric; skiff keeps serving", async (t) => {
  await using up = startHttpUpstream("app");
  await using s = await startSidecar(oneRouteConfig(up.port));
  const malformed = async (reason: string) =>
    sample(await metricsText(s.adminUrl), "skiff_malformed_requests_total", {
      listener: "web",
      reason,
    }) ?? 0;

  for (const c of CASES) {
    await t.step(c.name, async () => {
      const before = await malformed(c.reason);
      await using conn = await RawConn.connect(s.port("web"));
      await conn.send(c.wire);
      const res = await conn.readResponse();
      assert.equal(res.status, c.status, res.head);
      assert.equal(res.header("x-skiff-error"), c.reason);
      assert.equal(res.header("connection"), "close");
      // Closed after the reply: nothing else (no smuggled response) follows.
      assert.equal((await conn.readToEnd()).length, 0);
      await waitFor(
        `skiff_malformed_requests_total{reason="${c.reason}"}`,
        async () => (await malformed(c.reason)) === before + 1,
      );

      // The next client is served normally.
      const ok = await fetch(s.url("web") + "/after");
      assert.equal(ok.status, 200);
      assert.equal(await ok.text(), "app");
    });
  }
  // None of it was blamed on the upstream.
  const metrics = await metricsText(s.adminUrl);
  for (const reason of ["upstream_reset", "upstream_protocol_error"]) {
    assert.equal(sample(metrics, "skiff_errors_total", { reason }) ?? 0, 0, reason);
  }
  // Only the well-formed requests reached the upstream.
  assert.deepEqual(up.requests.map((r) => new URL(r.url).pathname), CASES.map(() => "/after"));
});
