import assert from "node:assert/strict";
import { Fallback } from "../../../src/dataplane/resilience/mod.ts";
import type { FallbackConfig } from "../../../src/config/mod.ts";
import type { ProxyResponse } from "../../../src/dataplane/http/message.ts";
import { routesFromConfig } from "../config_fixture.ts";

/** A route's `fallback` as written in YAML, validated by the real schema (defaults applied). */
function fallback(spec: unknown): Fallback {
  const config: FallbackConfig = routesFromConfig([{
    match: { prefix: "/" },
    cluster: "a",
    fallback: spec,
  }])[0].fallback!;
  return new Fallback(config);
}

function bodyText(res: ProxyResponse): string | null {
  return res.body === null ? null : new TextDecoder().decode(res.body.takeBuffered());
}

Deno.test("Fallback applies to the failures listed in on, timeout meaning upstream_timeout", () => {
  const reasons = [
    "circuit_open",
    "no_healthy_upstream",
    "upstream_timeout",
    "timeout", // a config name, not a failure reason
    "connect_timeout",
    "connect_failure",
    "upstream_reset",
    "overflow",
  ];
  const table: [on: string[] | undefined, applies: string[]][] = [
    [undefined, ["circuit_open", "no_healthy_upstream", "upstream_timeout"]], // the default
    [["timeout"], ["upstream_timeout"]],
    [["circuit_open"], ["circuit_open"]],
    [["no_healthy_upstream", "circuit_open"], ["circuit_open", "no_healthy_upstream"]],
  ];
  for (const [on, applies] of table) {
    const f = fallback({ cluster: "b", ...(on ? { on } : {}) });
    const got = reasons.filter((r) => f.applies(r));
    assert.deepEqual(got, applies, `on: ${JSON.stringify(on)}`);
  }
});

Deno.test("Fallback to a cluster exposes it and has no static response", () => {
  const f = fallback({ cluster: "b" });
  assert.equal(f.cluster, "b");
  assert.throws(() => f.response(false, "circuit_open"), TypeError);
  assert.equal(fallback({ response: { status: 200 } }).cluster, undefined);
});

Deno.test("Fallback response: status, body, headers, text/plain and x-skiff-fallback", () => {
  const table: [spec: unknown, reason: string, status: number, headers: string[], body: string][] =
    [
      [{ response: {} }, "circuit_open", 200, [
        "content-type",
        "text/plain; charset=utf-8",
        "x-skiff-fallback",
        "circuit_open",
      ], ""],
      [{ response: { status: 503, body: "try later\n" } }, "upstream_timeout", 503, [
        "content-type",
        "text/plain; charset=utf-8",
        "x-skiff-fallback",
        "upstream_timeout",
      ], "try later\n"],
      [
        {
          response: {
            body: '{"items":[]}',
            headers: [
              { name: "Content-Type", value: "application/json" },
              { name: "cache-control", value: "no-store" },
            ],
          },
        },
        "no_healthy_upstream",
        200,
        [
          "content-type",
          "application/json",
          "cache-control",
          "no-store",
          "x-skiff-fallback",
          "no_healthy_upstream",
        ],
        '{"items":[]}',
      ],
      [
        {
          response: {
            headers: [
              { name: "x-a", value: "1" },
              { name: "x-a", value: "2", append: true },
              { name: "x-b", value: "1" },
              { name: "x-b", value: "2" }, // append false: replaces
              { name: "x-skiff-fallback", value: "forged" }, // skiff's own header wins
            ],
          },
        },
        "circuit_open",
        200,
        [
          "x-a",
          "1",
          "x-a",
          "2",
          "x-b",
          "2",
          "content-type",
          "text/plain; charset=utf-8",
          "x-skiff-fallback",
          "circuit_open",
        ],
        "",
      ],
    ];
  for (const [spec, reason, status, headers, body] of table) {
    const res = fallback(spec).response(false, reason);
    const what = JSON.stringify(spec);
    assert.equal(res.status, status, what);
    assert.deepEqual(res.headers, headers, what);
    assert.equal(bodyText(res), body, what);
  }
});

Deno.test("Fallback gRPC response is trailers-only with a mapped grpc-status", () => {
  const table: [status: number, body: string, grpcStatus: string][] = [
    [200, "", "0"],
    [204, "", "0"],
    [503, "degraded", "14"],
    [429, "", "14"],
    [404, "", "12"],
    [403, "", "7"],
    [401, "", "16"],
    [400, "", "13"],
    [418, "", "2"],
  ];
  for (const [status, body, grpcStatus] of table) {
    const res = fallback({ response: { status, body } }).response(true, "circuit_open");
    const expected = ["content-type", "application/grpc", "grpc-status", grpcStatus];
    if (body !== "") expected.push("grpc-message", body);
    expected.push("x-skiff-fallback", "circuit_open");
    assert.equal(res.status, 200, `status ${status}`);
    assert.deepEqual(res.headers, expected, `status ${status}`);
    assert.equal(res.body, null, `status ${status}`);
  }
});

Deno.test("Fallback gRPC response: percent-encoded message, configured headers but content-type", () => {
  const res = fallback({
    response: {
      status: 503,
      body: "down: 100% of endpoints",
      headers: [
        { name: "content-type", value: "text/html" },
        { name: "grpc-status", value: "4" },
        { name: "x-degraded", value: "1" },
      ],
    },
  }).response(true, "no_healthy_upstream");
  assert.deepEqual(res.headers, [
    "content-type",
    "application/grpc",
    "grpc-message",
    "down%3A%20100%25%20of%20endpoints",
    "grpc-status",
    "4",
    "x-degraded",
    "1",
    "x-skiff-fallback",
    "no_healthy_upstream",
  ]);
});

Deno.test("Fallback responses are independent: each has its own headers and a readable body", () => {
  const f = fallback({ response: { status: 503, body: "fallback" } });
  const first = f.response(false, "circuit_open");
  first.headers.push("x-route", "added by the proxy");
  assert.equal(bodyText(first), "fallback");
  const second = f.response(false, "upstream_timeout");
  assert.deepEqual(second.headers, [
    "content-type",
    "text/plain; charset=utf-8",
    "x-skiff-fallback",
    "upstream_timeout",
  ]);
  assert.equal(bodyText(second), "fallback");
  assert.equal(second.body!.length, 8);
});
