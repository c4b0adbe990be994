import assert from "node:assert/strict";
import { waitFor } from "../_harness/wait.ts";
import type { MessageStream } from "../../src/net/transport.ts";
import { UdpTransport } from "../../src/net/udp_transport.ts";
import { within } from "./_wait.ts";
import { transportConformance } from "./transport_conformance.ts";

transportConformance("UdpTransport", async (n) => {
  const transports = await Promise.all(
    Array.from({ length: n }, () => UdpTransport.listen({ hostname: "127.0.0.1", port: 0 })),
  );
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadAddress = `127.0.0.1:${(l.addr as Deno.NetAddr).port}`;
  l.close();
  return {
    transports,
    deadAddress,
    dispose: async () => void await Promise.all(transports.map((t) => t.close())),
  };
});

Deno.test("UdpTransport: stream frames above maxMessageBytes are refused both ways", async () => {
  const small = await UdpTransport.listen({ maxMessageBytes: 1000 });
  const big = await UdpTransport.listen({ maxMessageBytes: 100_000 });
  try {
    const accepted = new Promise<MessageStream>((r) => small.onStream((_, s) => r(s)));
    const out = await big.connect(small.address, 5000);
    const into = await within(accepted, 5000, "accepted stream");
    await assert.rejects(into.send(new Uint8Array(1001)), RangeError, "sending above the limit");
    await out.send(new Uint8Array(1000));
    assert.equal((await into.receive(5000))?.length, 1000, "exactly the limit passes");
    await out.send(new Uint8Array(5000));
    await assert.rejects(
      into.receive(5000),
      RangeError,
      "a peer's oversized frame fails the stream",
    );
    await assert.rejects(into.send(new Uint8Array(1)), RangeError, "and the stream stays failed");
    out.close();
    into.close();
  } finally {
    await Promise.all([small.close(), big.close()]);
  }
});

Deno.test("UdpTransport: bad input is counted, never thrown", async () => {
  const t = await UdpTransport.listen();
  try {
    t.send("not-an-address", new Uint8Array(1));
    t.send("[::1:99", new Uint8Array(1));
    assert.equal(t.stats.sendDrops, 2);
    await assert.rejects(t.connect("nowhere", 100), TypeError);
    // A raw TCP client that sends no valid hello is dropped and counted.
    t.onStream(() => assert.fail("a stream without a hello must not reach the handler"));
    const raw = await Deno.connect({
      hostname: "127.0.0.1",
      port: Number(t.address.split(":")[1]),
    });
    await raw.write(new Uint8Array([0, 0, 0, 3, 0xff, 0xfe, 0xfd]));
    assert.equal(await within(raw.read(new Uint8Array(8)), 5000, "server closing"), null);
    raw.close();
    assert.equal(t.stats.badHellos, 1);
    // A throwing packet handler is counted; the receive loop keeps going.
    const errors: unknown[] = [];
    const u = await UdpTransport.listen({ onHandlerError: (e) => errors.push(e) });
    const inbox: number[] = [];
    u.onPacket((_, p) => {
      if (p[0] === 1) throw new Error("boom");
      inbox.push(p[0]);
    });
    t.send(u.address, new Uint8Array([1]));
    t.send(u.address, new Uint8Array([2]));
    await waitFor("the packet", () => inbox.length === 1, 5000);
    assert.equal(u.stats.handlerErrors, 1);
    assert.equal(errors.length, 1);
    await u.close();
  } finally {
    await t.close();
  }
});

Deno.test("UdpTransport: an accepted stream announcing a big first frame is closed before its body", async () => {
  // A stranger's hello is a host:port: the announcement of a 4 MB frame ends the stream at
  // once, without waiting for (or buffering) the body, well before the hello timeout.
  const t = await UdpTransport.listen({ maxMessageBytes: 8 << 20, helloTimeoutMs: 60_000 });
  try {
    t.onStream(() => assert.fail("a stream without a valid hello must not reach the handler"));
    const raw = await Deno.connect({
      hostname: "127.0.0.1",
      port: Number(t.address.split(":")[1]),
    });
    await raw.write(new Uint8Array([0, 0x3d, 0x09, 0x00])); // 4,000,000 bytes follow (they do not)
    assert.equal(await within(raw.read(new Uint8Array(8)), 5000, "server closing"), null);
    raw.close();
    await waitFor("the bad hello counted", () => t.stats.badHellos === 1, 5000);
    // A peer's own hello passes, and later frames may use the whole limit.
    const u = await UdpTransport.listen({ maxMessageBytes: 8 << 20 });
    try {
      const accepted = new Promise<MessageStream>((r) => t.onStream((_, s) => r(s)));
      const out = await u.connect(t.address, 5000);
      const into = await within(accepted, 5000, "accepted stream");
      await out.send(new Uint8Array(100_000));
      assert.equal((await into.receive(5000))?.length, 100_000);
      out.close();
      into.close();
    } finally {
      await u.close();
    }
  } finally {
    await t.close();
  }
});

Deno.test("UdpTransport: listen rejects a maxPacketBytes no datagram can carry", async () => {
  await assert.rejects(UdpTransport.listen({ maxPacketBytes: 70_000 }), RangeError);
});
