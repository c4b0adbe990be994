import assert from "node:assert/strict";
import fc from "fast-check";
import { formatAddress, parseAddress } from "../../src/config/mod.ts";

Deno.test("parseAddress reads host:port and [v6]:port", () => {
  assert.deepEqual(parseAddress("127.0.0.1:8080"), { hostname: "127.0.0.1", port: 8080 });
  assert.deepEqual(parseAddress("localhost:1"), { hostname: "localhost", port: 1 });
  assert.deepEqual(parseAddress("api.internal:65535"), { hostname: "api.internal", port: 65535 });
  assert.deepEqual(parseAddress("[::1]:9901"), { hostname: "::1", port: 9901 });
  assert.deepEqual(parseAddress("[::]:80"), { hostname: "::", port: 80 });
  assert.deepEqual(parseAddress("[fd00::5]:5432"), { hostname: "fd00::5", port: 5432 });
});

Deno.test("parseAddress refuses a missing or out-of-range port and bare IPv6", () => {
  for (
    const text of [
      "",
      "localhost",
      ":8080",
      "host:",
      "host:0",
      "host:65536",
      "host:123456",
      "::1:8080",
      "[::1]",
      "[::1]8080",
      "a b:80",
      "host:80 ",
      "http://host:80",
    ]
  ) {
    assert.equal(parseAddress(text), undefined, JSON.stringify(text));
  }
});

Deno.test("formatAddress brackets IPv6 hosts", () => {
  assert.equal(formatAddress({ hostname: "127.0.0.1", port: 80 }), "127.0.0.1:80");
  assert.equal(formatAddress({ hostname: "::1", port: 80 }), "[::1]:80");
});

Deno.test("formatAddress and parseAddress round-trip", () => {
  const host = fc.oneof(
    fc.ipV4(),
    fc.ipV6().filter((h) => /^[0-9A-Fa-f:.]+$/.test(h)),
    fc.domain(),
  );
  fc.assert(fc.property(host, fc.integer({ min: 1, max: 65535 }), (hostname, port) => {
    assert.deepEqual(parseAddress(formatAddress({ hostname, port })), { hostname, port });
  }));
});
