// Flow-control accounting on its own: windows, overruns, and WINDOW_UPDATE batching (one
// frame once half a window has been consumed), read back from the bytes the writer sends.
import assert from "node:assert/strict";
import { FlowControl, growSendWindow } from "../../../src/dataplane/http2/_flow_control.ts";
import {
  ErrorCode,
  FrameType,
  H2ConnectionError,
  readU31,
} from "../../../src/dataplane/http2/frame.ts";
import { FrameWriter } from "../../../src/dataplane/http2/frame_writer.ts";

/** A FrameWriter into memory, and the WINDOW_UPDATE frames it wrote as [stream, increment]. */
function recordingWriter(): { w: FrameWriter; updates: () => Promise<[number, number][]> } {
  const chunks: Uint8Array[] = [];
  const w = new FrameWriter({
    write: (p) => {
      chunks.push(p.slice());
      return Promise.resolve(p.length);
    },
  }, (err) => {
    throw err;
  });
  const updates = async () => {
    await w.drained();
    const out: [number, number][] = [];
    for (const b of chunks.splice(0)) {
      for (let p = 0; p < b.length; p += 9 + ((b[p] << 16) | (b[p + 1] << 8) | b[p + 2])) {
        assert.equal(b[p + 3], FrameType.WINDOW_UPDATE);
        out.push([readU31(b, p + 5), readU31(b, p + 9)]);
      }
    }
    return out;
  };
  return { w, updates };
}

function stream() {
  return { sendWindow: 65_535, recvUnacked: 0, recvInFlight: 0 };
}

Deno.test("the connection window is announced only when larger than 65,535", async () => {
  const big = recordingWriter();
  new FlowControl(big.w, 1 << 20, 1000).announce();
  assert.deepEqual(await big.updates(), [[0, (1 << 20) - 65_535]]);
  const small = recordingWriter();
  new FlowControl(small.w, 65_535, 1000).announce();
  assert.deepEqual(await small.updates(), []);
});

Deno.test("consumed octets go back in one WINDOW_UPDATE once half a window is", async () => {
  const { w, updates } = recordingWriter();
  const flow = new FlowControl(w, 100, 40);
  const s = stream();
  flow.receive(60);
  assert.ok(flow.receiveOnStream(s, 30));
  flow.consumed(49);
  flow.consumedOnStream(s, 3, 19);
  assert.deepEqual(await updates(), [], "below half of each window: nothing yet");
  flow.consumed(1);
  flow.consumedOnStream(s, 3, 1);
  assert.deepEqual(await updates(), [[0, 50], [3, 20]]);
  assert.deepEqual([flow.recvInFlight, flow.recvUnacked], [10, 0]);
  assert.deepEqual([s.recvInFlight, s.recvUnacked], [10, 0]);
});

Deno.test("a peer that overruns a receive window is caught", () => {
  const flow = new FlowControl(recordingWriter().w, 100, 40);
  const s = stream();
  assert.ok(flow.receiveOnStream(s, 40));
  assert.equal(flow.receiveOnStream(s, 1), false, "the stream's window is 40");
  flow.receive(100);
  assert.throws(
    () => flow.receive(1),
    (err) => err instanceof H2ConnectionError && err.code === ErrorCode.FLOW_CONTROL_ERROR,
  );
});

Deno.test("sending takes from both send windows, which WINDOW_UPDATE grows up to 2^31-1", () => {
  const flow = new FlowControl(recordingWriter().w, 100, 40);
  const s = stream();
  s.sendWindow = 10;
  assert.equal(flow.sendable(s, 16_384), 10);
  flow.spend(s, 10);
  assert.deepEqual([s.sendWindow, flow.sendWindow], [0, 65_525]);
  assert.equal(flow.sendable(s, 16_384), 0);
  assert.ok(growSendWindow(s, 0x7fff_ffff));
  assert.equal(growSendWindow(s, 1), false);
  assert.equal(flow.sendable(stream(), 100_000), 65_525, "the connection window limits too");
});
