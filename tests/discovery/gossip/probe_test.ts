// The failure detector's timing, driven by hand: one SwimNode on a virtual clock and a fake
// transport, with scripted helpers that answer indirect probes of a dead member with nacks.
import assert from "node:assert/strict";
import { seededRng, VirtualClock } from "../../../src/core/mod.ts";
import {
  type GossipMessage,
  jsonCodec,
  type MembershipEvent,
  SKIFF_DEFAULTS,
  type SwimConfig,
  SwimNode,
} from "../../../src/discovery/gossip/mod.ts";
import type { Transport } from "../../../src/net/transport.ts";

const info = (name: string) => ({
  name,
  address: name,
  incarnation: 0,
  state: "alive" as const,
  spiffeId: "",
  services: [],
});

/**
 * Member "a" knows "dead" and two helpers. The helpers ack pings and answer every ping_req
 * with a nack (only "dead" is ever the subject of one); "dead" answers nothing. `step()`
 * advances the virtual clock by 1 ms and lets the helpers answer.
 */
function scripted(config: SwimConfig) {
  const clock = new VirtualClock(0);
  let deliver: (from: string, packet: Uint8Array) => void = () => {};
  const pings: number[] = [];
  const inbox: [string, GossipMessage][] = [];
  const transport: Transport = {
    address: "a",
    maxPacketBytes: 1400,
    send: (to, packet) => {
      const msgs = jsonCodec.unpack(packet);
      if (!Array.isArray(msgs)) throw new Error("unreadable packet");
      for (const m of msgs) {
        if (m.type === "ping" && to === "dead") pings.push(clock.monotonic());
        if (to !== "dead") inbox.push([to, m]);
      }
    },
    onPacket: (h) => deliver = h,
    connect: () => Promise.reject(new Error("no streams here")),
    onStream: () => {},
    close: () => Promise.resolve(),
  };
  const events: MembershipEvent[] = [];
  const node = new SwimNode(
    { name: "a", address: "a", incarnation: 0, spiffeId: "", services: [] },
    {
      transport,
      clock,
      rng: seededRng(1),
      codec: jsonCodec,
      config,
      onEvent: (e) => events.push(e),
    },
  );
  void node.start([]);
  const send = (from: string, msgs: GossipMessage[]) =>
    deliver(from, jsonCodec.pack(msgs.map((m) => jsonCodec.encode(m))));
  send("h1", ["dead", "h1", "h2"].map((n) => ({ type: "alive", member: info(n) })));
  // The helpers ack pings 2 ms later, and nack a ping_req when their own 200 ms probe of
  // "dead" timed out (2 ms more on the way back).
  const step = () => {
    clock.advance(1);
    for (const [to, m] of inbox.splice(0)) {
      const [reply, ms]: [GossipMessage | undefined, number] = m.type === "ping"
        ? [{ type: "ack", seq: m.seq, from: to }, 2]
        : m.type === "ping_req"
        ? [{ type: "nack", seq: m.seq, from: to }, 202]
        : [undefined, 0];
      if (reply) clock.setTimer(() => send(to, [reply]), ms);
    }
  };
  return { clock, node, events, pings, send, step };
}

/** Virtual ms from a's ping of "dead" to its suspicion of it. */
function pingToSuspicion(config: SwimConfig): number {
  const { clock, node, events, pings, step } = scripted(config);
  while (!events.some((e) => e.event === "suspect" && e.member === "dead")) {
    if (clock.monotonic() > 60_000) throw new Error("never suspected");
    step();
  }
  node.stop();
  return events.find((e) => e.event === "suspect")!.t - pings[0];
}

const rules: SwimConfig = {
  ...SKIFF_DEFAULTS,
  probeIntervalMs: 1000,
  probeTimeoutMs: 200,
  indirectChecks: 2,
  suspicionVerifiers: 0,
};

Deno.test("probe: with failOnNacks a probe fails once every helper has nacked", () => {
  // Ping, 200 ms, ping_req to both helpers, which nack when their own 200 ms probe times out.
  const took = pingToSuspicion({ ...rules, failOnNacks: true });
  assert.ok(took >= 400 && took < 410, `suspected ${took} ms after the ping`);
});

Deno.test("probe: a failed probe that every helper nacked leaves the prober's health alone", () => {
  const { clock, node, events, step } = scripted({ ...rules, failOnNacks: true });
  while (!events.some((e) => e.event === "suspect") && clock.monotonic() < 60_000) step();
  assert.ok(events.some((e) => e.event === "suspect" && e.member === "dead"));
  assert.equal(node.health, 0, "the helpers' nacks show our own network is fine");
  node.stop();
});

Deno.test("probe: without failOnNacks a probe fails at the end of its period", () => {
  assert.equal(pingToSuspicion({ ...rules, failOnNacks: false }), 1000);
});

Deno.test("probe: a probe that fails after its target refuted does not suspect the new incarnation", () => {
  const { clock, node, events, pings, send, step } = scripted({ ...rules, failOnNacks: false });
  while (pings.length === 0) step();
  // Mid-probe, "dead" announces itself at a higher incarnation (a refutation or a restart).
  send("h1", [{ type: "alive", member: { ...info("dead"), incarnation: 1 } }]);
  const failAt = pings[0] + rules.probeIntervalMs;
  while (clock.monotonic() <= failAt + 5) step();
  assert.deepEqual(events.filter((e) => e.member === "dead").map((e) => e.event), [
    "join",
    "alive",
  ]);
  // Its next probe, which it does not answer either, does suspect it.
  while (!events.some((e) => e.event === "suspect") && clock.monotonic() < 60_000) step();
  node.stop();
  assert.ok(pings.length >= 2, "probed again");
  assert.ok(events.some((e) => e.event === "suspect" && e.member === "dead"));
});
