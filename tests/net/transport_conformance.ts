import assert from "node:assert/strict";
import { TimeoutError } from "../../src/core/abort.ts";
import type { MessageStream, Transport } from "../../src/net/transport.ts";
import { Inbox, pattern, within } from "./_wait.ts";

/** What a `TransportFactory` hands the conformance suite. */
export interface TransportHarness {
  /** Transports that can all reach each other. */
  transports: Transport[];
  /** An address in the transports' format where nobody listens. */
  deadAddress: string;
  /** Releases everything (closes transports, stops simulators). */
  dispose(): Promise<void>;
}

/** Makes `n` connected transports. */
export type TransportFactory = (n: number) => Promise<TransportHarness>;

/** Real-time bound on any one wait: a broken transport fails the test instead of hanging it. */
const WAIT = 5000;

async function using(
  factory: TransportFactory,
  n: number,
  fn: (t: Transport[], h: TransportHarness) => Promise<void>,
): Promise<void> {
  const h = await factory(n);
  try {
    await fn(h.transports, h);
  } finally {
    await h.dispose();
  }
}

/** Waits for the next stream `t` accepts. */
function nextStream(t: Transport): Promise<{ from: string; stream: MessageStream }> {
  return within(
    new Promise((resolve) => t.onStream((from, stream) => resolve({ from, stream }))),
    WAIT,
    "an accepted stream",
  );
}

/**
 * Registers the `Transport` conformance tests under `label`. Every implementation (the UDP/TCP
 * adapter, the simulator) must pass them.
 */
export function transportConformance(label: string, factory: TransportFactory): void {
  const test = (name: string, fn: () => Promise<void>) => Deno.test(`${label}: ${name}`, fn);

  test("packets arrive whole, with the sender's address as from", () =>
    using(factory, 3, async ([a, b, c]) => {
      const inA = new Inbox(a), inB = new Inbox(b);
      a.send(b.address, pattern(100, 1));
      const got = await inB.next(WAIT);
      assert.equal(got.from, a.address);
      assert.deepEqual(got.data, pattern(100, 1));
      b.send(a.address, pattern(7, 2));
      assert.deepEqual(await inA.next(WAIT), { from: b.address, data: pattern(7, 2) });
      c.send(a.address, pattern(a.maxPacketBytes, 3));
      assert.deepEqual(await inA.next(WAIT), {
        from: c.address,
        data: pattern(a.maxPacketBytes, 3),
      });
    }));

  test("a packet above maxPacketBytes throws RangeError and sends nothing", () =>
    using(factory, 2, async ([a, b]) => {
      const inB = new Inbox(b);
      assert.throws(() => a.send(b.address, new Uint8Array(a.maxPacketBytes + 1)), RangeError);
      a.send(b.address, pattern(3, 9));
      assert.deepEqual((await inB.next(WAIT)).data, pattern(3, 9), "only the marker arrives");
    }));

  test("a packet buffer reused right after send does not change what arrives", () =>
    using(factory, 2, async ([a, b]) => {
      const inB = new Inbox(b);
      const buf = pattern(50, 4);
      a.send(b.address, buf);
      buf.fill(0);
      assert.deepEqual((await inB.next(WAIT)).data, pattern(50, 4));
    }));

  test("streams carry ordered, whole messages both ways, including a large one", () =>
    using(factory, 2, async ([a, b]) => {
      const accepted = nextStream(b);
      const near = await within(a.connect(b.address, WAIT), WAIT, "connect");
      const { from, stream: far } = await accepted;
      assert.equal(from, a.address, "the accepting side sees the opener's address");
      const big = pattern(1024 * 1024 + 3, 5);
      const out = [new Uint8Array(0), ...Array.from({ length: 40 }, (_, i) => pattern(i * 37, i))];
      for (const m of out) await near.send(m);
      await near.send(big);
      for (const m of out) assert.deepEqual(await far.receive(WAIT), m);
      assert.deepEqual(await far.receive(WAIT), big);
      for (let i = 0; i < 10; i++) await far.send(pattern(i + 1, 100 + i));
      await far.send(big);
      for (let i = 0; i < 10; i++) {
        assert.deepEqual(await near.receive(WAIT), pattern(i + 1, 100 + i));
      }
      assert.deepEqual(await near.receive(WAIT), big);
      near.close();
      near.close();
      assert.equal(await far.receive(WAIT), null, "the peer reads the end once closed");
      await assert.rejects(near.send(pattern(1)), "a closed stream refuses to send");
      far.close();
    }));

  test("receive rejects with TimeoutError when nothing arrives, and the stream still works", () =>
    using(factory, 2, async ([a, b]) => {
      const accepted = nextStream(b);
      const near = await a.connect(b.address, WAIT);
      const { stream: far } = await accepted;
      await assert.rejects(within(far.receive(30), WAIT, "receive timeout"), TimeoutError);
      await near.send(pattern(10));
      assert.deepEqual(await far.receive(WAIT), pattern(10));
      near.close();
      far.close();
    }));

  test("close is idempotent, stops delivery, ends open streams and refuses connects", () =>
    using(factory, 3, async ([a, b, c]) => {
      let afterClose = 0;
      const accepted = nextStream(b);
      const near = await a.connect(b.address, WAIT);
      await accepted;
      await Promise.all([b.close(), b.close()]);
      await b.close();
      b.onPacket(() => afterClose++);
      const inC = new Inbox(c);
      a.send(b.address, pattern(5)); // must not throw
      b.send(c.address, pattern(6)); // a closed transport drops, never throws
      a.send(c.address, pattern(7));
      assert.deepEqual(await inC.next(WAIT), { from: a.address, data: pattern(7) });
      assert.equal(afterClose, 0, "a closed transport delivers nothing");
      assert.equal(inC.packets.length, 1, "nothing is sent from a closed transport");
      assert.equal(await within(near.receive(WAIT), WAIT, "end of stream"), null);
      near.close();
      await assert.rejects(within(a.connect(b.address, 300), WAIT, "connect to closed"));
      await assert.rejects(b.connect(a.address, 300), "a closed transport cannot connect");
    }));

  test("connect to a dead address rejects within its timeout", () =>
    using(factory, 1, async ([a], h) => {
      await assert.rejects(within(a.connect(h.deadAddress, 300), 300 + WAIT, "dead connect"));
    }));
}
