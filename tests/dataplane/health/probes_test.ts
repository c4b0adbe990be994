// Health-check probes over real loopback sockets, and a checker on a virtual clock using one.
import assert from "node:assert/strict";
import { VirtualClock } from "../../../src/core/mod.ts";
import {
  type CheckResult,
  HealthChecker,
  httpProbe,
  parseStatusLine,
  statusExpected,
  tcpProbe,
} from "../../../src/dataplane/health/mod.ts";
import { type Endpoint, toEndpoint } from "../../../src/discovery/mod.ts";
import {
  freePort,
  startHttpUpstream,
  startTcpServer,
  waitFor,
  within,
} from "../../_harness/mod.ts";

const endpoint = (port: number): Endpoint =>
  toEndpoint({ address: { hostname: "127.0.0.1", port } });

const signal = () => new AbortController().signal;

Deno.test("parseStatusLine reads HTTP/1.x status lines and refuses anything else", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const cases: [text: string, want: number | undefined | "error"][] = [
    ["HTTP/1.1 200 OK\r\n", 200],
    ["HTTP/1.0 503 Service Unavailable\r\ncontent-length: 0\r\n", 503],
    ["HTTP/1.1 204\r\n", 204],
    ["HTTP/1.1 404\n", 404],
    ["HTTP/1.1 20", undefined], // not complete yet
    ["HTTP/1.1 200 O", undefined],
    ["SSH-2.0-OpenSSH_9.6\r\n", "error"],
    ["HTTP/2 200\r\n", "error"],
    ["HTTP/1.1 2000 OK\r\n", "error"],
    ["HTTP/1.1 600 Nope\r\n", "error"],
    ["garbage that is long and has no newline", "error"],
  ];
  for (const [text, want] of cases) {
    if (want === "error") {
      assert.throws(() => parseStatusLine(enc(text)), SyntaxError, JSON.stringify(text));
    } else {
      assert.equal(parseStatusLine(enc(text)), want, JSON.stringify(text));
    }
  }
});

Deno.test("statusExpected checks inclusive ranges", () => {
  const ranges: [number, number][] = [[200, 299], [304, 304]];
  const cases: [number, boolean][] = [[199, false], [200, true], [299, true], [300, false], [
    304,
    true,
  ], [503, false]];
  for (const [status, want] of cases) {
    assert.equal(statusExpected(status, ranges), want, `${status}`);
  }
});

Deno.test("tcpProbe passes on a listening port and fails on a closed one", async () => {
  await using server = startTcpServer(async () => {});
  await tcpProbe()(endpoint(server.port), signal());
  await waitFor("the probe's connection", () => server.accepted === 1);
  await assert.rejects(tcpProbe()(endpoint(freePort()), signal()));
});

Deno.test("httpProbe sends GET path with the host header and passes on an expected status", async () => {
  let status = 204;
  await using up = startHttpUpstream("up", () => new Response(null, { status }));
  const probe = httpProbe({ path: "/ready?full=1", host: "app.internal", statuses: [[200, 299]] });
  await probe(endpoint(up.port), signal());
  const req = up.requests[0];
  assert.equal(req.method, "GET");
  assert.equal(new URL(req.url).pathname + new URL(req.url).search, "/ready?full=1");
  assert.equal(req.headers.get("host"), "app.internal");
  assert.equal(req.headers.get("user-agent"), "skiff-health-check");
  status = 503;
  await assert.rejects(probe(endpoint(up.port), signal()), /status 503 is not one of/);
});

Deno.test("httpProbe fails on an answer that is not HTTP", async () => {
  await using server = startTcpServer(async (c) => {
    await c.write(new TextEncoder().encode("SSH-2.0-OpenSSH_9.6\r\n"));
  });
  const probe = httpProbe({ path: "/", host: "x", statuses: [[200, 399]] });
  await assert.rejects(probe(endpoint(server.port), signal()), SyntaxError);
});

Deno.test("httpProbe gives up when its signal aborts, closing its connection", async () => {
  const closed = Promise.withResolvers<void>();
  await using server = startTcpServer(async (c) => {
    // Never answers; reads until the probe closes the connection.
    const buf = new Uint8Array(1024);
    while ((await c.read(buf)) !== null) { /* the request */ }
    closed.resolve();
  });
  const probe = httpProbe({ path: "/", host: "x", statuses: [[200, 399]] });
  const ac = new AbortController();
  const checking = probe(endpoint(server.port), ac.signal);
  await waitFor("the probe's connection", () => server.accepted === 1);
  ac.abort(new Error("timed out"));
  await assert.rejects(within("the aborted probe", checking), /timed out/);
  await within("the probe's connection to close", closed.promise);
});

Deno.test("HealthChecker with a real TCP probe: a stopped endpoint turns unhealthy, a restarted one healthy", async () => {
  const clock = new VirtualClock(0);
  const results: CheckResult[] = [];
  let onCheck = () => {};
  const checker = new HealthChecker({
    type: "tcp",
    path: "/",
    interval: 1_000,
    interval_jitter: 0,
    timeout: 60_000,
    healthy_threshold: 2,
    unhealthy_threshold: 2,
    expected_statuses: [[200, 399]],
  }, {
    clock,
    rng: () => 0,
    probe: tcpProbe(),
    onCheck: (_key, result) => {
      results.push(result);
      onCheck();
    },
  });
  /** Runs the next check (one interval on) and waits for its result. */
  const check = async (): Promise<CheckResult> => {
    const done = new Promise<void>((r) => onCheck = r);
    clock.advance(1_000);
    await within("a check", done);
    return results.at(-1)!;
  };
  let l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  const key = `127.0.0.1:${port}`;
  const first = new Promise<void>((r) => onCheck = r);
  checker.setHosts([endpoint(port)]);
  await within("the first check", first);
  assert.equal(checker.status(key), "healthy");
  l.close();
  assert.equal(await check(), "failure");
  assert.equal(checker.status(key), "healthy", "one failure is not enough");
  assert.equal(await check(), "failure");
  assert.equal(checker.status(key), "unhealthy");
  l = Deno.listen({ hostname: "127.0.0.1", port });
  assert.equal(await check(), "success");
  assert.equal(checker.status(key), "unhealthy");
  assert.equal(await check(), "success");
  assert.equal(checker.status(key), "healthy");
  checker.stop();
  l.close();
});
