// gRPC through skiff: a real @grpc/grpc-js client → skiff (HTTP/2 downstream) → a real
// grpc-js server on an `http2` cluster, plus the failures skiff answers itself.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { freePort, startSidecar, waitFor } from "../_harness/mod.ts";
import {
  bounded,
  echoClient,
  type EchoReply,
  grpc,
  NOT_FOUND,
  NOT_FOUND_AFTER_HEADERS,
  readAll,
  startEchoServer,
  unary,
} from "./_grpc_echo.ts";
import { closeSession, h2Connect, h2Request, startH2Upstream } from "./_h2_peers.ts";

/**
 * Routes by the `x-target` header: `dead` → a cluster whose endpoint is a closed port,
 * `retry` → a cluster of the closed port and the Echo server, retrying connect failures,
 * `blackhole` → an HTTP/2 upstream that never answers, `slow-route` → the Echo cluster with
 * a 300 ms route timeout; everything under /skiff.test.Echo/ → the Echo cluster. Nothing
 * else matches.
 */
function config(echoPort: number, blackholePort: number, closedPort: number): string {
  return `
admin: { address: "127.0.0.1:0" }
listeners:
  - name: grpc
    address: 127.0.0.1:0
    routes:
      - name: retry
        match: { headers: [{ name: x-target, exact: retry }] }
        cluster: half-dead
        retry: { retry_on: [connect-failure], num_retries: 1, backoff: { base_interval: 1ms } }
      - name: dead
        match: { headers: [{ name: x-target, exact: dead }] }
        cluster: dead
      - name: blackhole
        match: { headers: [{ name: x-target, exact: blackhole }] }
        cluster: blackhole
        timeout: 0s
      - name: slow-route
        match: { prefix: /skiff.test.Echo/, headers: [{ name: x-target, exact: slow-route }] }
        cluster: echo
        timeout: 300ms
      - name: echo
        match: { prefix: /skiff.test.Echo/ }
        cluster: echo
clusters:
  - name: echo
    protocol: http2
    endpoints: [{ address: "127.0.0.1:${echoPort}" }]
  - name: dead
    protocol: http2
    connect_timeout: 2s
    endpoints: [{ address: "127.0.0.1:${closedPort}" }]
  - name: blackhole
    protocol: http2
    endpoints: [{ address: "127.0.0.1:${blackholePort}" }]
  - name: half-dead
    protocol: http2
    endpoints: [{ address: "127.0.0.1:${closedPort}" }, { address: "127.0.0.1:${echoPort}" }]
`;
}

function metadata(fields: Record<string, string>): grpc.Metadata {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(fields)) md.set(k, v);
  return md;
}

Deno.test({
  name: "gRPC through skiff",
  // grpc-js keeps its own timers and sockets alive past each step.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using server = await startEchoServer();
    // Accepts streams and never answers them.
    await using blackhole = await startH2Upstream(() => {});
    await using sidecar = await startSidecar(config(server.port, blackhole.port, freePort()));
    using client = echoClient(sidecar.port("grpc"));

    await t.step("unary call with metadata both ways and trailing metadata", async () => {
      const bin = new Uint8Array([0, 1, 2, 254, 255]);
      const md = metadata({ "x-in": "hello-meta" });
      md.set("x-blob-bin", Buffer.from(bin));
      const r = await unary(client, { text: "hi" }, md);
      assert.equal(r.status.code, grpc.status.OK, r.status.details);
      assert.deepEqual(r.reply, { text: "hi", index: 0 });
      assert.deepEqual(r.headers?.get("x-echo-in"), ["hello-meta"]);
      assert.deepEqual(r.status.metadata.get("x-trail"), ["done:hi"]);
      const seen = server.received.at(-1)!;
      assert.deepEqual(seen.get("x-in"), ["hello-meta"]);
      assert.deepEqual([...(seen.get("x-blob-bin")[0] as Buffer)], [...bin]);
      // skiff adds forwarding headers on the way.
      assert.equal(seen.get("x-forwarded-for")[0], "127.0.0.1");
      assert.match(String(seen.get("x-request-id")[0]), /\S/);
    });

    await t.step("server streaming delivers every message in order", async () => {
      const n = 50;
      const { messages, status } = await readAll(
        client.ServerStream({ text: "s", count: n }, new grpc.Metadata(), bounded()),
      );
      assert.equal(status.code, grpc.status.OK, status.details);
      assert.deepEqual(
        messages.map((m) => [m.text, m.index]),
        Array.from({ length: n }, (_, i) => [`s-${i}`, i]),
      );
      assert.deepEqual(status.metadata.get("x-count"), [String(n)]);
    });

    await t.step("client streaming delivers every message before the answer", async () => {
      const n = 20;
      const reply = await new Promise<{ err: grpc.ServiceError | null; r?: EchoReply }>(
        (resolve) => {
          const call = client.ClientStream(new grpc.Metadata(), bounded(), (err, r) => {
            resolve({ err, r });
          });
          for (let i = 0; i < n; i++) call.write({ text: `c${i}` });
          call.end();
        },
      );
      assert.equal(reply.err, null);
      assert.deepEqual(reply.r, {
        text: Array.from({ length: n }, (_, i) => `c${i}`).join(","),
        index: n,
      });
    });

    for (const target of ["echo", "retry"]) {
      await t.step(`bidi streaming is lock-step through the ${target} route`, async () => {
        // The next message goes out only after the previous echo came back, so a proxy
        // that buffered either direction until the end (say, to be able to retry) stalls.
        await bidiLockStep(target);
      });
    }

    async function bidiLockStep(target: string) {
      const call = client.Bidi(metadata({ "x-target": target }), bounded());
      const done = readAll(call);
      const got: EchoReply[] = [];
      let next = Promise.withResolvers<void>();
      call.on("data", (m: EchoReply) => {
        got.push(m);
        next.resolve();
      });
      for (let i = 0; i < 10; i++) {
        next = Promise.withResolvers<void>();
        call.write({ text: `b${i}` });
        // The call's deadline ends a stall: the status then fails the call and this wait.
        await Promise.race([next.promise, done.then(() => {})]);
      }
      call.end();
      const { status } = await done;
      assert.equal(status.code, grpc.status.OK, status.details);
      assert.deepEqual(
        got.map((m) => [m.text, m.index]),
        Array.from({ length: 10 }, (_, i) => [`b${i}`, i]),
      );
    }

    await t.step(
      "unary calls are retried on another endpoint after a connect failure",
      async () => {
        // Round robin over a closed port and the server. The retry's pick advances the
        // cycle too, so once a call has hit the closed port, every next call does first.
        for (let i = 0; i < 6; i++) {
          const r = await unary(client, { text: `r${i}` }, metadata({ "x-target": "retry" }));
          assert.equal(r.status.code, grpc.status.OK, r.status.details);
          assert.deepEqual(r.reply, { text: `r${i}`, index: 0 });
        }
        const res = await fetch(`${sidecar.adminUrl}/clusters`);
        const view = (await res.json()) as { name: string; retries: number }[];
        assert.ok(view.find((c) => c.name === "half-dead")!.retries >= 3);
      },
    );

    await t.step("an error status with details reaches the client unchanged", async () => {
      // Trailers-only from the server, and headers followed by trailers without a message.
      for (const text of [NOT_FOUND, NOT_FOUND_AFTER_HEADERS]) {
        const r = await unary(client, { text });
        assert.equal(r.status.code, grpc.status.NOT_FOUND, `${text}: ${r.status.details}`);
        assert.equal(r.status.details, "nope");
        assert.equal(r.reply, undefined);
        assert.deepEqual(r.status.metadata.get("x-skiff-error"), []);
      }
    });

    await t.step(
      "a client deadline shorter than the handler ends in DEADLINE_EXCEEDED",
      async () => {
        const r = await unary(client, { text: "slow-deadline", delay_ms: 30_000 }, undefined, {
          deadline: Date.now() + 300,
        });
        assert.equal(r.status.code, grpc.status.DEADLINE_EXCEEDED, r.status.details);
        // The upstream call is cancelled too, not left running.
        await waitFor(
          "the server to see the call cancelled",
          () => server.cancelled.includes("slow-deadline"),
        );
      },
    );

    await t.step("the route timeout ends a slow call in DEADLINE_EXCEEDED from skiff", async () => {
      const r = await unary(
        client,
        { text: "slow-route", delay_ms: 30_000 },
        metadata({ "x-target": "slow-route" }),
      );
      assert.equal(r.status.code, grpc.status.DEADLINE_EXCEEDED, r.status.details);
      assert.deepEqual(r.status.metadata.get("x-skiff-error"), ["upstream_timeout"]);
      await waitFor(
        "the server to see the call cancelled",
        () => server.cancelled.includes("slow-route"),
      );
    });

    await t.step("an endpoint on a closed port gives UNAVAILABLE with x-skiff-error", async () => {
      const r = await unary(client, { text: "x" }, metadata({ "x-target": "dead" }));
      assert.equal(r.status.code, grpc.status.UNAVAILABLE, r.status.details);
      assert.deepEqual(r.status.metadata.get("x-skiff-error"), ["connect_failure"]);
    });

    await t.step("a call no route matches gives UNIMPLEMENTED from skiff", async () => {
      const call = await new Promise<grpc.StatusObject>((resolve) => {
        const c = client.makeUnaryRequest(
          "/skiff.test.Missing/Call",
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.alloc(0),
          () => {},
        );
        c.on("status", resolve);
      });
      assert.equal(call.code, grpc.status.UNIMPLEMENTED, call.details);
      assert.deepEqual(call.metadata.get("x-skiff-error"), ["no_route"]);
    });
  },
});

/**
 * Sends one raw gRPC call with `grpc-timeout: value` through skiff to an upstream that never
 * answers (the route has no timeout of its own) and returns the reply and what the upstream saw.
 */
async function callBlackhole(value: string) {
  await using blackhole = await startH2Upstream(() => {});
  await using sidecar = await startSidecar(config(freePort(), blackhole.port, freePort()));
  const session = await h2Connect(sidecar.port("grpc"));
  try {
    const reply = await h2Request(session, {
      ":method": "POST",
      ":path": "/skiff.test.Echo/Unary",
      "content-type": "application/grpc",
      te: "trailers",
      "grpc-timeout": value,
      "x-target": "blackhole",
    }, new Uint8Array([0, 0, 0, 0, 0]));
    return { reply, upstream: blackhole.requests };
  } finally {
    await closeSession(session);
  }
}

Deno.test({
  name: "gRPC: skiff enforces the grpc-timeout header with a trailers-only DEADLINE_EXCEEDED",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { reply, upstream } = await callBlackhole("200m");
    assert.equal(reply.status, 200);
    // Trailers-only: grpc-status in the one header block, no body, no trailers.
    assert.equal(reply.headers["grpc-status"], String(grpc.status.DEADLINE_EXCEEDED));
    assert.equal(reply.headers["x-skiff-error"], "upstream_timeout");
    assert.equal(reply.headers["content-type"], "application/grpc");
    assert.equal(reply.body.length, 0);
    assert.equal(reply.trailers, null);
    assert.equal(upstream.length, 1);
    assert.equal(upstream[0].headers["grpc-timeout"], "200m");
  },
});

Deno.test({
  name: "gRPC: a grpc-timeout of zero is already expired, not 'no deadline'",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { reply, upstream } = await callBlackhole("0m");
    assert.equal(reply.headers["grpc-status"], String(grpc.status.DEADLINE_EXCEEDED));
    assert.equal(reply.headers["x-skiff-error"], "upstream_timeout");
    assert.equal(upstream.length, 0, "an expired call is not sent upstream");
  },
});
