import assert from "node:assert/strict";
import type { RetryPolicyConfig } from "../../../src/config/mod.ts";
import {
  IDEMPOTENT,
  retriableFailure,
  retriableStatus,
} from "../../../src/dataplane/resilience/mod.ts";
import type { FailureReason } from "../../../src/dataplane/upstream_error.ts";
import { routesFromConfig } from "../config_fixture.ts";

function policy(retry: Record<string, unknown>): RetryPolicyConfig {
  return routesFromConfig([{ cluster: "a", retry }])[0].retry!;
}

const REASONS: FailureReason[] = [
  "connect_failure",
  "connect_timeout",
  "upstream_identity",
  "upstream_reset",
  "upstream_timeout",
  "upstream_protocol_error",
  "overflow",
  "no_healthy_upstream",
  "retry_budget_exhausted",
];

Deno.test("retriableFailure: which failures each retry_on value retries", () => {
  const table: Record<string, FailureReason[]> = {
    "connect-failure": ["connect_failure", "connect_timeout", "upstream_identity"],
    "reset": ["upstream_reset"],
    "5xx": [
      "connect_failure",
      "connect_timeout",
      "upstream_identity",
      "upstream_reset",
      "upstream_timeout",
    ],
    "gateway-error": [
      "connect_failure",
      "connect_timeout",
      "upstream_identity",
      "upstream_reset",
      "upstream_timeout",
    ],
    "retriable-status-codes": [],
  };
  for (const [on, want] of Object.entries(table)) {
    const p = policy({ retry_on: [on], retriable_status_codes: [503] });
    assert.deepEqual(REASONS.filter((r) => retriableFailure(p, r)), want, `retry_on ${on}`);
  }
});

Deno.test("retriableFailure: the default retry_on and combinations are unions", () => {
  const defaults = policy({});
  assert.deepEqual(defaults.retry_on, ["connect-failure", "reset", "gateway-error"]);
  assert.deepEqual(REASONS.filter((r) => retriableFailure(defaults, r)), [
    "connect_failure",
    "connect_timeout",
    "upstream_identity",
    "upstream_reset",
    "upstream_timeout",
  ]);
  const both = policy({ retry_on: ["connect-failure", "reset"] });
  assert.deepEqual(REASONS.filter((r) => retriableFailure(both, r)), [
    "connect_failure",
    "connect_timeout",
    "upstream_identity",
    "upstream_reset",
  ]);
});

Deno.test("retriableStatus: which statuses each retry_on value retries", () => {
  const statuses = [200, 204, 301, 400, 404, 409, 429, 499, 500, 501, 502, 503, 504, 505, 599];
  const table: Record<string, number[]> = {
    "5xx": [500, 501, 502, 503, 504, 505, 599],
    "gateway-error": [502, 503, 504],
    "retriable-status-codes": [409, 429, 503],
    "reset": [],
    "connect-failure": [],
  };
  for (const [on, want] of Object.entries(table)) {
    const p = policy({ retry_on: [on], retriable_status_codes: [409, 429, 503] });
    assert.deepEqual(statuses.filter((s) => retriableStatus(p, s)), want, `retry_on ${on}`);
  }
});

Deno.test("retriableStatus: listed codes need retry_on retriable-status-codes", () => {
  const p = policy({ retry_on: ["gateway-error"], retriable_status_codes: [409] });
  assert.equal(retriableStatus(p, 409), false);
  const q = policy({ retry_on: ["gateway-error", "retriable-status-codes"] }); // no codes listed
  assert.equal(retriableStatus(q, 409), false);
  assert.equal(retriableStatus(q, 503), true);
});

Deno.test("IDEMPOTENT holds the methods RFC 9110 calls idempotent", () => {
  assert.deepEqual([...IDEMPOTENT].sort(), ["DELETE", "GET", "HEAD", "OPTIONS", "PUT", "TRACE"]);
  for (const m of ["POST", "PATCH", "CONNECT"]) assert.equal(IDEMPOTENT.has(m), false, m);
});
