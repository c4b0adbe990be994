// Joining a header block split over HEADERS and CONTINUATION, within its size and frame
// limits, and decoding it in step with the peer's HPACK encoder.
import assert from "node:assert/strict";
import { HeaderBlock } from "../../../src/dataplane/http2/_header_block.ts";
import { ErrorCode, Flag, H2ConnectionError } from "../../../src/dataplane/http2/frame.ts";
import { HpackEncoder } from "../../../src/dataplane/http2/hpack_encoder.ts";

const code = (c: number) => (err: unknown) => err instanceof H2ConnectionError && err.code === c;

Deno.test("a block split over three frames is joined and decoded", () => {
  const fields = [":status", "200", "x-long", "v".repeat(300), "x-b", "2"];
  const block = new HpackEncoder().encode(fields).slice();
  const hb = new HeaderBlock(64 * 1024);
  assert.equal(hb.pending, false);
  hb.start(5, Flag.END_STREAM, false, block, 0, 100);
  assert.ok(hb.pending);
  assert.equal(hb.append(5, 0, block, 100, 200), null);
  const whole = hb.append(5, Flag.END_HEADERS, block, 200, block.length);
  assert.ok(whole !== null);
  assert.equal(hb.pending, false);
  assert.equal(hb.flags, Flag.END_STREAM);
  assert.deepEqual(hb.decode(whole, 0, hb.length), fields);
  assert.equal(hb.tooLarge, false);
});

Deno.test("CONTINUATION without a block, or on another stream, is a protocol error", () => {
  const hb = new HeaderBlock(1024);
  const b = new Uint8Array(10);
  assert.throws(() => hb.append(1, Flag.END_HEADERS, b, 0, 10), code(ErrorCode.PROTOCOL_ERROR));
  hb.start(1, 0, false, b, 0, 10);
  assert.throws(() => hb.append(3, Flag.END_HEADERS, b, 0, 10), code(ErrorCode.PROTOCOL_ERROR));
});

Deno.test("a block over twice the header list limit, or over 512 frames, is cut off", () => {
  const big = new HeaderBlock(100);
  const b = new Uint8Array(150);
  big.start(1, 0, false, b, 0, 150);
  assert.throws(() => big.append(1, 0, b, 0, 51), code(ErrorCode.ENHANCE_YOUR_CALM));

  const many = new HeaderBlock(64 * 1024);
  const one = new Uint8Array(1);
  many.start(1, 0, false, one, 0, 1);
  for (let i = 0; i < 512; i++) assert.equal(many.append(1, 0, one, 0, 1), null);
  assert.throws(() => many.append(1, 0, one, 0, 1), code(ErrorCode.ENHANCE_YOUR_CALM));
});

Deno.test("a list over the size limit decodes to no fields and is flagged", () => {
  const block = new HpackEncoder().encode(["x-big", "v".repeat(200)]).slice();
  const hb = new HeaderBlock(100);
  assert.deepEqual(hb.decode(block, 0, block.length), []);
  assert.equal(hb.tooLarge, true);
});
