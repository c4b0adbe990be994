// A cluster's limits on connections and pending requests across its endpoints' pools, with
// real upstreams: at the limit an idle connection of another endpoint gives way, a request
// waits when the queue has room, and overflows when it has none.
import assert from "node:assert/strict";
import { Cancel, systemClock, TimerWheel } from "../../../src/core/mod.ts";
import { Exchange } from "../../../src/dataplane/exchange.ts";
import { ConnectionBudget } from "../../../src/dataplane/pool/connection_budget.ts";
import { H1Pool } from "../../../src/dataplane/pool/h1_pool.ts";
import { UpstreamError } from "../../../src/dataplane/upstream_error.ts";
import { startHttpUpstream, type TestServer, within } from "../../_harness/mod.ts";

function pools(budget: ConnectionBudget, a: TestServer, b: TestServer) {
  const wheel = new TimerWheel(systemClock, 10);
  const limits = {
    maxConnections: 10,
    maxPendingRequests: 10,
    maxRequestsPerConnection: 0,
    idleTimeoutMs: 60_000,
    connectTimeoutMs: 1_000,
  };
  const deps = { wheel, now: () => systemClock.monotonic(), budget };
  return {
    a: new H1Pool({ hostname: "127.0.0.1", port: a.port }, limits, deps),
    b: new H1Pool({ hostname: "127.0.0.1", port: b.port }, limits, deps),
    wheel,
  };
}

/** GET / through `pool`; the body as text. */
async function get(pool: H1Pool): Promise<string> {
  const ex = new Exchange("t", "127.0.0.1:1", systemClock.monotonic(), systemClock.now());
  const res = await pool.request(
    {
      method: "GET",
      path: "/",
      authority: "a",
      scheme: "http",
      headers: [],
      body: null,
      protocol: "HTTP/1.1",
      upgrade: null,
    },
    ex,
    new Cancel(),
  );
  if (res.body === null) return `${res.status}`;
  const body = res.body;
  let text = "";
  for (let c: Uint8Array | null = body.takeBuffered(); c !== null; c = await body.read()) {
    text += new TextDecoder().decode(c);
  }
  return text;
}

Deno.test("connection budget: at the cluster's limit an idle connection elsewhere gives way", async () => {
  await using a = startHttpUpstream("a");
  await using b = startHttpUpstream("b");
  const budget = new ConnectionBudget(1, 10);
  const p = pools(budget, a, b);
  try {
    assert.equal(await get(p.a), "a");
    assert.deepEqual([p.a.open, p.a.idle, budget.connections], [1, 1, 1]);
    assert.equal(await get(p.b), "b");
    assert.deepEqual([p.a.open, p.b.open, budget.connections], [0, 1, 1]);
  } finally {
    p.a.close();
    p.b.close();
    p.wheel.clear();
  }
});

Deno.test("connection budget: a full cluster queues up to max_pending, then overflows", async () => {
  const gate = Promise.withResolvers<void>();
  const arrived = Promise.withResolvers<void>();
  await using a = startHttpUpstream("a", async () => {
    arrived.resolve();
    await gate.promise;
    return new Response("a");
  });
  await using b = startHttpUpstream("b");
  const budget = new ConnectionBudget(1, 1);
  const p = pools(budget, a, b);
  try {
    const slow = get(p.a);
    await arrived.promise;
    // The one connection is busy: B's request waits (the queue has room for one)...
    const waiting = get(p.b);
    assert.equal(budget.pending, 1);
    // ...and a second one overflows.
    await assert.rejects(get(p.b), (e) => e instanceof UpstreamError && e.reason === "overflow");
    gate.resolve();
    assert.equal(await slow, "a");
    // A's connection gives way to the waiting request instead of going idle.
    assert.equal(await within("the waiting request", waiting), "b");
    assert.deepEqual([p.a.open, p.b.open, budget.connections, budget.pending], [0, 1, 1, 0]);
  } finally {
    p.a.close();
    p.b.close();
    p.wheel.clear();
  }
});
