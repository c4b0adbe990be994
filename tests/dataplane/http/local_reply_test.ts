import assert from "node:assert/strict";
import { localReply } from "../../../src/dataplane/http/local_reply.ts";
import { getHeader } from "../../../src/dataplane/http/message.ts";
import { bufferBody } from "../../../src/dataplane/http/body.ts";

const REASONS: [reason: string, status: number, grpcStatus: number][] = [
  ["no_route", 404, 12],
  ["no_healthy_upstream", 503, 14],
  ["connect_failure", 503, 14],
  ["connect_timeout", 503, 14],
  ["overflow", 503, 14],
  ["retry_budget_exhausted", 503, 14],
  ["upstream_reset", 502, 14],
  ["upstream_protocol_error", 502, 13],
  ["upstream_timeout", 504, 4],
];

Deno.test("localReply answers each failure with its status, x-skiff-error and a text body", async () => {
  for (const [reason, status] of REASONS) {
    const res = localReply(reason, "the details", false);
    assert.equal(res.status, status, reason);
    assert.equal(res.error, reason);
    assert.equal(getHeader(res.headers, "x-skiff-error"), reason);
    assert.equal(getHeader(res.headers, "content-type"), "text/plain; charset=utf-8");
    const body = await bufferBody(res.body!, 1 << 16);
    assert.equal(new TextDecoder().decode(body!.bytes), `${reason}: the details\n`);
  }
});

Deno.test("localReply answers an unknown reason with 503", () => {
  const res = localReply("brand_new", "x", false);
  assert.equal(res.status, 503);
  assert.equal(getHeader(res.headers, "x-skiff-error"), "brand_new");
});

Deno.test("localReply answers gRPC calls trailers-only with the mapped grpc-status", () => {
  for (const [reason, , grpcStatus] of REASONS) {
    const message = `upstream "a" said: 100% down, ünïcode\nand a newline`;
    const res = localReply(reason, message, true);
    assert.equal(res.status, 200, reason);
    assert.equal(res.body, null, "a trailers-only response has no body");
    assert.equal(getHeader(res.headers, "content-type"), "application/grpc");
    assert.equal(getHeader(res.headers, "grpc-status"), String(grpcStatus), reason);
    assert.equal(getHeader(res.headers, "x-skiff-error"), reason);
    const encoded = getHeader(res.headers, "grpc-message")!;
    assert.match(encoded, /^[\x20-\x7e]*$/, "grpc-message must be printable ASCII");
    assert.equal(decodeURIComponent(encoded), message);
  }
});
