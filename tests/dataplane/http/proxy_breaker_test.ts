// The proxy core and circuit breakers when the client fails: a request whose body the client
// never finishes must give its breaker permit back instead of counting as the cluster's
// failure, on both paths (buffered for retries, and streamed), with a real upstream.
import assert from "node:assert/strict";
import { parseConfig } from "../../../src/config/mod.ts";
import { mathRng, silentLogger, systemClock, TimerWheel } from "../../../src/core/mod.ts";
import { StaticResolver } from "../../../src/discovery/mod.ts";
import { ClusterRuntime } from "../../../src/dataplane/cluster.ts";
import { Exchange } from "../../../src/dataplane/exchange.ts";
import type { Body } from "../../../src/dataplane/http/body.ts";
import type { ProxyResponse } from "../../../src/dataplane/http/message.ts";
import { callSucceeded, HttpProxy } from "../../../src/dataplane/http/proxy.ts";
import { outlierOutcome } from "../../../src/dataplane/health/endpoint_health.ts";
import { CompiledRoute } from "../../../src/dataplane/http/router.ts";
import { H1Pool } from "../../../src/dataplane/pool/h1_pool.ts";
import { MetricsRegistry } from "../../../src/telemetry/mod.ts";
import { DataplaneStats } from "../../../src/dataplane/stats.ts";
import { offAccessLog } from "../../../src/telemetry/mod.ts";
import { startHttpUpstream, waitFor } from "../../_harness/mod.ts";

/** A request body whose client goes away after `sent` bytes (as skiff's H1 body records it). */
class AbandonedBody implements Body {
  readonly length = 100;
  done = false;
  failure: unknown = undefined;
  #sent = false;

  takeBuffered(): Uint8Array {
    return new Uint8Array(0);
  }

  read(): Promise<Uint8Array | null> {
    if (!this.#sent) {
      this.#sent = true;
      return Promise.resolve(new TextEncoder().encode("abc"));
    }
    this.failure = new Deno.errors.UnexpectedEof("The connection closed in the middle of a body");
    return Promise.reject(this.failure);
  }

  trailers(): string[] | null {
    return null;
  }

  cancel(): void {}
}

for (const retry of [true, false]) {
  Deno.test(`proxy: a client that abandons its upload gives the half-open trial back (${retry ? "buffered" : "streamed"})`, async () => {
    await using up = startHttpUpstream("up");
    const config = parseConfig(
      `
listeners:
  - name: web
    address: 127.0.0.1:0
    routes: [{ name: r, cluster: app${retry ? ", retry: { num_retries: 1 }" : ""} }]
clusters:
  - name: app
    circuit_breaker: { sliding_window_size: 2, minimum_number_of_calls: 2, wait_duration_in_open_state: 1ms, permitted_number_of_calls_in_half_open_state: 1 }
    endpoints: [{ address: "127.0.0.1:${up.port}" }]
`,
      "t.yaml",
    );
    const c = config.clusters[0];
    const wheel = new TimerWheel(systemClock, 10);
    const stats = new DataplaneStats(new MetricsRegistry(), offAccessLog, {});
    const cluster = new ClusterRuntime(
      c,
      new StaticResolver(c.endpoints.map((e) => ({ address: e.address }))),
      {
        rng: mathRng,
        clock: systemClock,
        counters: stats.clusterCounters("app"),
        pools: (ep) =>
          new H1Pool(ep.address, {
            maxConnections: 10,
            maxPendingRequests: 10,
            maxRequestsPerConnection: 0,
            idleTimeoutMs: 60_000,
            connectTimeoutMs: 1_000,
          }, { wheel, now: () => systemClock.monotonic() }),
      },
    );
    const proxy = new HttpProxy({
      clusters: new Map([["app", cluster]]),
      clock: systemClock,
      wheel,
      rng: mathRng,
      log: silentLogger(systemClock),
    });
    const route = new CompiledRoute(config.listeners[0].routes[0], 0);
    const breaker = cluster.breaker!;
    try {
      // Open the circuit, then let it half-open: one trial call may go.
      breaker.tryAcquire();
      breaker.onResult(false, 1);
      breaker.tryAcquire();
      breaker.onResult(false, 1);
      const state = (): string => breaker.state;
      assert.equal(state(), "open");
      await waitFor("the circuit to half-open", () => state() === "half_open");
      const ex = new Exchange("web", "127.0.0.1:1", systemClock.monotonic(), systemClock.now());
      const body = new AbandonedBody();
      await Promise.resolve(proxy.forward(
        {
          method: "POST",
          path: "/",
          authority: "a",
          scheme: "http",
          headers: ["content-length", "100"],
          body,
          protocol: "HTTP/1.1",
          upgrade: null,
        },
        route,
        ex,
      )).then(
        (res) => res.body?.cancel(),
        () => {},
      );
      assert.notEqual(body.failure, undefined, "the client's failure was seen");
      assert.equal(state(), "half_open", "no outcome recorded for the abandoned call");
      assert.equal(breaker.tryAcquire(), true, "the trial slot is free again");
    } finally {
      cluster.close();
      wheel.clear();
    }
  });
}

Deno.test("proxy: what counts as a failed call for breakers and outlier detection", () => {
  const res = (status: number, headers: string[] = []): ProxyResponse => ({
    status,
    headers,
    body: null,
  });
  const table: [ProxyResponse, boolean, boolean][] = [
    [res(200), false, true],
    [res(404), false, true],
    [res(500), false, false],
    [res(503), false, false],
    [{ ...res(503), error: "connect_failure" }, false, false],
    [res(200, ["grpc-status", "0"]), true, true],
    [res(200, ["grpc-status", "5"]), true, true], // NOT_FOUND: the caller's, not the service's
    [res(200, ["grpc-status", "14"]), true, false], // UNAVAILABLE
    [res(200, ["grpc-status", "4"]), true, false], // DEADLINE_EXCEEDED
    [res(200, ["grpc-status", "13"]), true, false], // INTERNAL
    [res(200, ["grpc-status", "14"]), false, true], // not a gRPC request: not read
  ];
  for (const [r, grpc, ok] of table) {
    assert.equal(callSucceeded(r, grpc), ok, JSON.stringify([r, grpc]));
  }
  assert.equal(outlierOutcome(res(200, ["grpc-status", "14"])), 503);
  assert.equal(outlierOutcome(res(200, ["grpc-status", "4"])), 504);
  assert.equal(outlierOutcome(res(200, ["grpc-status", "2"])), 500);
  assert.equal(outlierOutcome(res(200, ["grpc-status", "0"])), 200);
  assert.equal(outlierOutcome(res(502)), 502);
});
