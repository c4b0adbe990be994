import assert from "node:assert/strict";
import {
  GrpcStatus,
  grpcStatusForFailure,
  isGrpc,
  parseGrpcTimeout,
} from "../../../src/dataplane/http/grpc.ts";

Deno.test("parseGrpcTimeout reads every unit into milliseconds", () => {
  const table: [string, number][] = [
    ["1H", 3_600_000],
    ["2M", 120_000],
    ["3S", 3_000],
    ["250m", 250],
    ["1500u", 1.5],
    ["2000000n", 2],
    ["1n", 1e-6],
    ["99999999S", 99_999_999_000], // the longest value: eight digits
    ["00000010m", 10], // leading zeros count as digits
  ];
  for (const [value, ms] of table) {
    const got = parseGrpcTimeout(value);
    assert.ok(got !== undefined && Math.abs(got - ms) < 1e-9, `${value}: ${got}, want ${ms}`);
  }
});

Deno.test("parseGrpcTimeout rejects malformed values", () => {
  const bad = [
    "",
    "S",
    "100", // no unit
    "123456789S", // nine digits
    "-1S",
    "+1S",
    "1.5S",
    " 1S",
    "1S ",
    "1 S",
    "1s", // units are case-sensitive: s is not a unit, m is milli, M is minutes
    "1h",
    "1x",
    "1SS",
    "S1",
    "1e3m",
    "１S", // non-ASCII digit
  ];
  for (const value of bad) {
    assert.equal(parseGrpcTimeout(value), undefined, JSON.stringify(value));
  }
});

Deno.test("grpcStatusForFailure maps skiff's failure reasons", () => {
  const table: [string, number][] = [
    ["no_route", GrpcStatus.UNIMPLEMENTED],
    ["upstream_timeout", GrpcStatus.DEADLINE_EXCEEDED],
    ["upstream_protocol_error", GrpcStatus.INTERNAL],
    ["connect_failure", GrpcStatus.UNAVAILABLE],
    ["connect_timeout", GrpcStatus.UNAVAILABLE],
    ["upstream_reset", GrpcStatus.UNAVAILABLE],
    ["overflow", GrpcStatus.UNAVAILABLE],
    ["no_healthy_upstream", GrpcStatus.UNAVAILABLE],
    ["retry_budget_exhausted", GrpcStatus.UNAVAILABLE],
    ["something_new", GrpcStatus.UNAVAILABLE],
  ];
  for (const [reason, status] of table) assert.equal(grpcStatusForFailure(reason), status, reason);
});

Deno.test("isGrpc recognises gRPC content types, not gRPC-Web", () => {
  const table: [string | undefined, boolean][] = [
    ["application/grpc", true],
    ["application/grpc+proto", true],
    ["application/grpc+json", true],
    ["application/grpc;charset=utf-8", true],
    ["application/grpc-web", false],
    ["application/grpc-web+proto", false],
    ["application/grpc-web-text", false],
    ["application/json", false],
    ["text/plain", false],
    ["", false],
    [undefined, false],
  ];
  for (const [ct, want] of table) assert.equal(isGrpc(ct), want, String(ct));
});
