import assert from "node:assert/strict";
import { endToEndHeaders } from "../../../src/dataplane/http/hop_by_hop.ts";

Deno.test("endToEndHeaders drops hop-by-hop and framing fields", () => {
  const hop = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "host",
    "content-length",
    "http2-settings",
  ];
  const headers = ["accept", "*/*"];
  for (const name of hop) headers.push(name, "v");
  headers.push("x-request-id", "r1", "content-type", "text/plain");
  assert.deepEqual(endToEndHeaders(headers, []), [
    "accept",
    "*/*",
    "x-request-id",
    "r1",
    "content-type",
    "text/plain",
  ]);
});

Deno.test("endToEndHeaders drops the fields a Connection header names", () => {
  const headers = [
    "connection",
    "close, x-secret, X-Ignored",
    "x-secret",
    "1",
    "x-keep",
    "a",
    "x-secret",
    "2",
    "x-keep",
    "b",
  ];
  const copy = [...headers];
  assert.deepEqual(endToEndHeaders(headers, ["close", "x-secret"]), ["x-keep", "a", "x-keep", "b"]);
  assert.deepEqual(headers, copy, "the input list was modified");
});

Deno.test("endToEndHeaders keeps end-to-end fields in order, repeated ones included", () => {
  const headers = ["a", "1", "b", "2", "a", "3", "trailers", "x"]; // "trailers" is not "trailer"
  assert.deepEqual(endToEndHeaders(headers, []), headers);
  assert.deepEqual(endToEndHeaders([], ["a"]), []);
});
