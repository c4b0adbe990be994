// Retries through skiff with real upstreams: which failures are retried, how often, to
// which endpoint, under which budget, and what is never retried.
import assert from "node:assert/strict";
import { startHttpUpstream, startSidecar, type TestServer } from "../_harness/mod.ts";
import { clusterView, metricsText, sample } from "./_admin_api.ts";
import { startRawUpstream } from "./_raw_upstream.ts";
import { closeSession, h2Connect, h2Request, startH2Upstream } from "./_h2_peers.ts";
import http2 from "node:http2";

/** One listener `web` whose only route `r` sends to cluster `c` with the given retry policy. */
function config(retry: string | null, endpoints: number[], clusterExtra = ""): string {
  return `
admin: { address: "127.0.0.1:0" }
listeners:
  - name: web
    address: 127.0.0.1:0
    routes:
      - name: r
        cluster: c
${retry === null ? "" : `        retry: ${retry}`}
clusters:
  - name: c
    endpoints: [${endpoints.map((p) => `{ address: "127.0.0.1:${p}" }`).join(", ")}]
${clusterExtra}
`;
}

/** An upstream that answers `status` to its first `failures` requests, then 200 `name`. */
function failingFirst(name: string, failures: number, status = 503): TestServer {
  let n = 0;
  return startHttpUpstream(
    name,
    () => n++ < failures ? new Response("fail", { status }) : new Response(name),
  );
}

async function get(url: string, init?: RequestInit): Promise<{ status: number; body: string }> {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.text() };
}

/** A request body of unknown length: fetch sends it chunked. */
function chunkedBody(size: number, fill: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(fill.repeat(size));
  const half = Math.floor(size / 2);
  return ReadableStream.from([bytes.subarray(0, half), bytes.subarray(half)]);
}

Deno.test("retries: 503s are retried until the upstream succeeds", async () => {
  await using up = failingFirst("up", 2);
  await using s = await startSidecar(
    config("{ retry_on: [5xx], num_retries: 3, backoff: { base_interval: 1ms } }", [up.port]),
  );
  const r = await get(`${s.url("web")}/x`);
  assert.deepEqual(r, { status: 200, body: "up" });
  assert.equal(up.requests.length, 3);
  const c = await clusterView(s.adminUrl, "c");
  assert.equal(c.retries, 2);
  assert.equal(c.requests, 3);
});

Deno.test("retries: connections closed before a response are retried (reset)", async () => {
  await using up = startRawUpstream((n) => n < 2 ? "close" : "answer");
  await using s = await startSidecar(
    config("{ retry_on: [reset], num_retries: 3, backoff: { base_interval: 1ms } }", [up.port]),
  );
  const r = await get(`${s.url("web")}/x`);
  assert.deepEqual(r, { status: 200, body: "ok" });
  assert.equal(up.seen.length, 3);
  assert.equal((await clusterView(s.adminUrl, "c")).retries, 2);
});

Deno.test("retries: a failure retry_on does not name is not retried", async () => {
  await using up = failingFirst("up", 1);
  await using s = await startSidecar(
    config("{ retry_on: [connect-failure, reset], num_retries: 3 }", [up.port]),
  );
  const r = await get(`${s.url("web")}/x`);
  assert.equal(r.status, 503);
  assert.equal(r.body, "fail");
  assert.equal(up.requests.length, 1);
  assert.equal((await clusterView(s.adminUrl, "c")).retries, 0);

  // A reset is not retried under a 5xx-free policy either.
  await using raw = startRawUpstream(() => "close");
  await using s2 = await startSidecar(config("{ retry_on: [connect-failure] }", [raw.port]));
  const res = await fetch(`${s2.url("web")}/x`);
  await res.body?.cancel();
  assert.equal(res.status, 502);
  assert.equal(res.headers.get("x-skiff-error"), "upstream_reset");
  assert.equal(raw.seen.length, 1);
});

Deno.test("retries: only replayable request bodies (≤ 64 KiB) are retried", async () => {
  let n = 0;
  // Every first attempt of a request id fails; its retry succeeds.
  const tries = new Map<string, number>();
  await using up = startHttpUpstream("up", (req) => {
    n++;
    const id = req.headers.get("x-id")!;
    tries.set(id, (tries.get(id) ?? 0) + 1);
    return tries.get(id) === 1 ? new Response("fail", { status: 503 }) : new Response("ok");
  });
  await using s = await startSidecar(
    config("{ retry_on: [5xx], num_retries: 2, backoff: { base_interval: 1ms } }", [up.port]),
  );

  // Small and chunked: buffered for replay, so retried with the same bytes.
  const small = await get(`${s.url("web")}/small`, {
    method: "POST",
    headers: { "x-id": "small" },
    body: chunkedBody(1024, "s"),
  });
  assert.deepEqual(small, { status: 200, body: "ok" });
  const smallSeen = up.requests.filter((r) => r.headers.get("x-id") === "small");
  assert.equal(smallSeen.length, 2);
  assert.equal(smallSeen[0].body, "s".repeat(1024));
  assert.equal(smallSeen[1].body, "s".repeat(1024));

  // Over 64 KiB and chunked: streamed, so it cannot be replayed and the 503 is final.
  const big = await get(`${s.url("web")}/big`, {
    method: "POST",
    headers: { "x-id": "big" },
    body: chunkedBody(100 * 1024, "b"),
  });
  assert.equal(big.status, 503);
  const bigSeen = up.requests.filter((r) => r.headers.get("x-id") === "big");
  assert.equal(bigSeen.length, 1);
  assert.equal(bigSeen[0].body.length, 100 * 1024);
  assert.equal(n, 3);
  assert.equal((await clusterView(s.adminUrl, "c")).retries, 1);
});

Deno.test("retries: retriable_status_codes retries the listed codes only", async () => {
  const policy = "{ retry_on: [retriable-status-codes], retriable_status_codes: [409], " +
    "num_retries: 1, backoff: { base_interval: 1ms } }";
  await using conflict = failingFirst("after-409", 1, 409);
  await using s = await startSidecar(config(policy, [conflict.port]));
  assert.deepEqual(await get(`${s.url("web")}/x`), { status: 200, body: "after-409" });
  assert.equal(conflict.requests.length, 2);
  assert.equal((await clusterView(s.adminUrl, "c")).retries, 1);

  await using unavailable = failingFirst("after-503", 1, 503);
  await using s2 = await startSidecar(config(policy, [unavailable.port]));
  assert.equal((await get(`${s2.url("web")}/x`)).status, 503);
  assert.equal(unavailable.requests.length, 1);
  assert.equal((await clusterView(s2.adminUrl, "c")).retries, 0);
});

Deno.test("retries: a per-try timeout moves a slow first attempt to another endpoint", async () => {
  // The first request to reach either endpoint hangs until skiff gives up on it.
  let first = true;
  const hung: string[] = [];
  const released = Promise.withResolvers<void>();
  const handler = (name: string) => async () => {
    if (first) {
      first = false;
      hung.push(name);
      await released.promise;
      return new Response("too late", { status: 500 });
    }
    return new Response(name);
  };
  await using a = startHttpUpstream("a", handler("a"));
  await using b = startHttpUpstream("b", handler("b"));
  try {
    await using s = await startSidecar(config(
      "{ retry_on: [gateway-error], num_retries: 1, per_try_timeout: 200ms, " +
        "backoff: { base_interval: 1ms } }",
      [a.port, b.port],
    ));
    const r = await get(`${s.url("web")}/x`);
    assert.equal(r.status, 200);
    assert.equal(hung.length, 1);
    assert.notEqual(r.body, hung[0], "the retry went to the endpoint that hung");
    assert.equal((await clusterView(s.adminUrl, "c")).retries, 1);
  } finally {
    released.resolve();
  }
});

Deno.test("retries: an empty retry budget allows no retries and counts the refusals", async () => {
  await using up = failingFirst("up", Infinity);
  await using s = await startSidecar(config(
    "{ retry_on: [5xx], num_retries: 3, backoff: { base_interval: 1ms } }",
    [up.port],
    "    retry_budget: { budget_percent: 0, min_retry_concurrency: 0 }",
  ));
  for (let i = 0; i < 5; i++) assert.equal((await get(`${s.url("web")}/x`)).status, 503);
  assert.equal(up.requests.length, 5);
  const c = await clusterView(s.adminUrl, "c");
  assert.equal(c.retries, 0);
  assert.equal(c.retry_budget_exhausted, 5);
  const text = await metricsText(s.adminUrl);
  assert.equal(sample(text, "skiff_retry_budget_exhausted_total", { cluster: "c" }), 5);
  assert.equal(sample(text, "skiff_retries_total", { cluster: "c" }), 0);
});

Deno.test("retries: a retry goes to another endpoint than the one that failed", async () => {
  await using bad = failingFirst("bad", Infinity);
  await using good = startHttpUpstream("good");
  await using s = await startSidecar(
    config("{ retry_on: [5xx], num_retries: 1, backoff: { base_interval: 1ms } }", [
      bad.port,
      good.port,
    ]),
  );
  for (let i = 0; i < 20; i++) {
    assert.deepEqual(await get(`${s.url("web")}/x`), { status: 200, body: "good" }, `#${i}`);
  }
  // Round robin sent about half of the first attempts to the bad endpoint.
  assert.ok(bad.requests.length >= 1);
  assert.equal(good.requests.length, 20);
  assert.equal((await clusterView(s.adminUrl, "c")).retries, bad.requests.length);
});

Deno.test("retries: a pooled connection the upstream closed is retried once, uncounted", async () => {
  // Answers the first request of each connection, closes it on the second.
  await using up = startRawUpstream((_n, index) => index === 0 ? "answer" : "close");
  // No retry policy at all: the stale-connection retry is not a policy retry.
  await using s = await startSidecar(config(null, [up.port]));
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(await get(`${s.url("web")}/x`), { status: 200, body: "ok" }, `#${i}`);
  }
  // Request 2 reused connection 0, which the upstream closed; it went again on connection 1.
  assert.deepEqual(up.seen.slice(0, 3).map((x) => [x.conn, x.index]), [[0, 0], [0, 1], [1, 0]]);
  assert.equal((await clusterView(s.adminUrl, "c")).retries, 0);
});

Deno.test({
  name: "retries: an HTTP/2 request body without a length is replayed byte for byte",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // Resets the first stream after reading its whole body, answers the second.
    await using up = await startH2Upstream(({ stream }) => {
      if (up.requests.length === 1) {
        stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
        return;
      }
      stream.respond({ ":status": 200 });
      stream.end("second");
    });
    await using s = await startSidecar(
      config("{ retry_on: [reset], num_retries: 1, backoff: { base_interval: 1ms } }", [up.port])
        .replace("  - name: c\n", "  - name: c\n    protocol: http2\n"),
    );
    const body = new Uint8Array(40_000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7 + 3) & 0xff;
    const session = await h2Connect(s.port("web"));
    try {
      // node:http2 sends no content-length: skiff sees a body of unknown length.
      const r = await h2Request(session, { ":method": "POST", ":path": "/x" }, body);
      assert.equal(r.status, 200);
      assert.equal(new TextDecoder().decode(r.body), "second");
    } finally {
      await closeSession(session);
    }
    assert.equal(up.requests.length, 2);
    assert.equal(up.requests[0].headers["content-length"], undefined);
    assert.deepEqual(up.requests[0].body, body);
    assert.deepEqual(up.requests[1].body, body);
    assert.equal((await clusterView(s.adminUrl, "c")).retries, 1);
  },
});
