// End-to-end: every failure skiff turns into a local reply, as a client sees it (status and
// x-skiff-error), and as an operator sees it (skiff_errors_total on /metrics, a log line).
import assert from "node:assert/strict";
import {
  freePort,
  RawConn,
  startHttpUpstream,
  startSidecar,
  startTcpServer,
  type TestSidecar,
  waitFor,
} from "../_harness/mod.ts";
import { metricsText, sample } from "./_admin_api.ts";
import { curl } from "./_curl_cli.ts";

/**
 * A sidecar with one route: prefix `/<name>` to cluster `<name>`, whose settings below its
 * name are `cluster` (YAML, indented by four spaces); `route` adds keys to the route.
 */
function sidecarFor(name: string, cluster: string, route = ""): Promise<TestSidecar> {
  return startSidecar(`
admin: { address: "127.0.0.1:0" }
listeners:
  - name: web
    address: 127.0.0.1:0
    routes:
      - { match: { prefix: /${name} }, cluster: ${name}${route} }
clusters:
  - name: ${name}
${cluster}
`);
}

/** The count of `skiff_errors_total{listener="web",reason}`. */
async function errors(s: TestSidecar, reason: string): Promise<number> {
  return sample(await metricsText(s.adminUrl), "skiff_errors_total", { listener: "web", reason }) ??
    0;
}

/**
 * Sends GET `path` and checks the local reply: `status`, `x-skiff-error: reason`, a body
 * naming the reason, one more `skiff_errors_total{reason}` and a warning log line.
 */
async function expectLocalReply(
  s: TestSidecar,
  path: string,
  status: number,
  reason: string,
): Promise<void> {
  const before = await errors(s, reason);
  const res = await fetch(s.url("web") + path);
  const body = await res.text();
  assert.equal(res.status, status, body);
  assert.equal(res.headers.get("x-skiff-error"), reason);
  assert.match(body, new RegExp(`^${reason}: `));
  await waitFor(
    `skiff_errors_total{reason="${reason}"} to grow`,
    async () => (await errors(s, reason)) === before + 1,
  );
  assert.ok(
    s.logs.some((l) => l.level === "warn" && l.msg === "request failed" && l.reason === reason),
    `a log line for ${reason}: ${JSON.stringify(s.logs)}`,
  );
}

Deno.test("errors: no matching route → 404 no_route", async () => {
  await using s = await sidecarFor("only", "    endpoints: []");
  await expectLocalReply(s, "/nothing/here", 404, "no_route");
});

Deno.test("errors: an endpoint refusing connections → 503 connect_failure", async () => {
  await using s = await sidecarFor(
    "refused",
    `    endpoints: [{ address: "127.0.0.1:${freePort()}" }]`,
  );
  await expectLocalReply(s, "/refused", 503, "connect_failure");
});

Deno.test("errors: a cluster without endpoints → 503 no_healthy_upstream", async () => {
  await using s = await sidecarFor("empty", "    endpoints: []");
  await expectLocalReply(s, "/empty", 503, "no_healthy_upstream");
});

Deno.test("errors: an upstream slower than the route timeout → 504 upstream_timeout", async () => {
  const gate = Promise.withResolvers<void>();
  await using up = startHttpUpstream("slow", async () => {
    await gate.promise;
    return new Response("too late");
  });
  try {
    await using s = await sidecarFor(
      "slow",
      `    endpoints: [{ address: "127.0.0.1:${up.port}" }]`,
      ", timeout: 200ms",
    );
    await expectLocalReply(s, "/slow", 504, "upstream_timeout");
    assert.equal(up.requests.length, 1, "the request did reach the upstream");
  } finally {
    gate.resolve();
  }
});

Deno.test("errors: a full connection pool with no queue → 503 overflow", async () => {
  const gate = Promise.withResolvers<void>();
  await using up = startHttpUpstream("held", async () => {
    await gate.promise;
    return new Response("finally");
  });
  try {
    await using s = await sidecarFor(
      "held",
      `    endpoints: [{ address: "127.0.0.1:${up.port}" }]
    pool: { max_connections: 1, max_pending_requests: 0 }`,
    );
    const first = fetch(s.url("web") + "/held/1");
    await waitFor("the first request to hold the only connection", () => up.requests.length === 1);
    await expectLocalReply(s, "/held/2", 503, "overflow");
    gate.resolve();
    const res = await first;
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "finally");
    assert.equal(up.requests.length, 1, "the refused request never reached the upstream");
  } finally {
    gate.resolve();
  }
});

/** An upstream that reads a request head and then answers `reply` and closes or waits. */
function brokenUpstream(reply: string, then: "close" | "wait") {
  return startTcpServer(async (conn) => {
    const c = new RawConn(conn);
    await c.readUntil("\r\n\r\n");
    await c.send(reply);
    if (then === "wait") await c.readToEnd(30_000);
  });
}

const broken = (port: number) =>
  sidecarFor("broken", `    endpoints: [{ address: "127.0.0.1:${port}" }]`);

Deno.test("errors: an upstream closing in the middle of the response head → 502 upstream_reset", async () => {
  await using up = brokenUpstream("HTTP/1.1 200 OK\r\nContent-Le", "close");
  await using s = await broken(up.port);
  await expectLocalReply(s, "/broken", 502, "upstream_reset");
});

Deno.test("errors: an upstream answering garbage → 502 upstream_protocol_error", async () => {
  await using up = brokenUpstream("SSH-2.0-OpenSSH_9.2p1\r\nnot http at all\r\n\r\n", "wait");
  await using s = await broken(up.port);
  await expectLocalReply(s, "/broken", 502, "upstream_protocol_error");
});

Deno.test("errors: an upstream closing in the middle of the body → truncated response, closed", async () => {
  await using up = brokenUpstream(
    "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly 19 bytes here.",
    "close",
  );
  await using s = await broken(up.port);
  // The head was already on its way: curl sees a 200 whose body stops short.
  const r = await curl(["-w", "%{http_code}", `${s.url("web")}/broken`]);
  assert.equal(r.code, 18, `curl: "partial file" expected; ${r.stderr}`);
  assert.match(r.stderr, /81 bytes remaining/);
  assert.equal(new TextDecoder().decode(r.stdout), "only 19 bytes here.200");
  await waitFor(
    "skiff_errors_total{reason=upstream_reset}",
    async () => (await errors(s, "upstream_reset")) === 1,
  );
  assert.ok(
    s.logs.some((l) => l.level === "warn" && l.msg === "upstream failed during the response body"),
    JSON.stringify(s.logs),
  );
});

Deno.test("errors: a connection: close response ends with a FIN, not a reset, though more was pipelined", async () => {
  const big = new Uint8Array(16 << 20).fill(0x62);
  const arrived = Promise.withResolvers<void>();
  const gate = Promise.withResolvers<void>();
  await using up = startHttpUpstream("up", async () => {
    arrived.resolve();
    await gate.promise;
    return new Response(big);
  });
  await using s = await sidecarFor("app", `    endpoints: [{ address: "127.0.0.1:${up.port}" }]`);
  // The first request asks skiff to close after its response; a second one, sent while skiff
  // waits for the upstream, stays unread in the kernel. Closing with it unread would reset the
  // connection, which can throw away the end of the response still queued for the client:
  // skiff closes its side and reads the rest away instead.
  await using c = await RawConn.connect(s.port("web"));
  await c.send("GET /app HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n");
  await arrived.promise;
  await c.send("GET /app HTTP/1.1\r\nhost: a\r\n\r\n");
  gate.resolve();
  const res = await c.readResponse({ timeoutMs: 30_000 });
  assert.equal(res.body.length, big.length);
  assert.equal((await c.readToEnd()).length, 0);
  assert.equal(c.reset, false, "closed with a FIN, not a reset");
});
