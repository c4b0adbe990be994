// The old side of a hot restart with gossip, in process: `POST /drain?handover=1` stops gossip
// without a leave and lets the gossip port go before the admin port; a plain drain leaves.
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { adminHandler } from "../../src/control/admin.ts";
import { Logger, mathRng, systemClock } from "../../src/core/mod.ts";
import { Membership } from "../../src/runtime/membership.ts";
import { Sidecar } from "../../src/runtime/sidecar.ts";
import { MetricsRegistry } from "../../src/telemetry/mod.ts";
import { freePort, waitFor } from "../_harness/mod.ts";

const TEST_OPTS = { sanitizeOps: false, sanitizeResources: false };
const FAST = `probe_interval: 200ms, probe_timeout: 100ms, gossip_interval: 100ms`;
const host = { hostname: () => "test", privateAddress: () => undefined, cpu: () => 0 };
const log = new Logger({ clock: systemClock, sink: () => {}, level: "error" });

/** A gossip peer that records every state it holds for member `a`. */
async function startPeer() {
  const config = parseConfig(
    `listeners: [{ name: in, address: "127.0.0.1:0", routes: [] }]
gossip: { name: peer, bind: "127.0.0.1:0", ${FAST} }
`,
    "peer.yaml",
  );
  const m = await Membership.start(config.gossip!, {
    clock: systemClock,
    rng: mathRng,
    log,
    registry: new MetricsRegistry(),
    host,
  });
  const states: string[] = [];
  const stateOfA = () => {
    const a = m.members().find((x) => x.name === "a");
    if (a) states.push(a.state);
    return a?.state;
  };
  return { m, states, stateOfA };
}

/** Skiff `a` (sidecar mode) on gossip port `port`, joining through `seed`. */
async function startSidecar(port: number, seed: string): Promise<Sidecar> {
  const config = parseConfig(
    `listeners: [{ name: in, address: "127.0.0.1:0", routes: [] }]
drain: { timeout: 1s }
gossip: { name: a, bind: "127.0.0.1:${port}", seeds: ["${seed}"], ${FAST} }
`,
    "a.yaml",
  );
  const sidecar = new Sidecar(config, {
    clock: systemClock,
    rng: mathRng,
    log,
    membership: { host },
  });
  await sidecar.start();
  return sidecar;
}

/** True when both gossip sockets (UDP and TCP) can be bound on `port` now. */
function gossipPortFree(port: number): boolean {
  try {
    Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port }).close();
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

Deno.test(
  "handover: gossip stops without a leave, and its port is free before the admin port goes",
  TEST_OPTS,
  async () => {
    const peer = await startPeer();
    const port = freePort();
    const sidecar = await startSidecar(port, peer.m.address);
    try {
      await waitFor("the peer to hold a alive", () => peer.stateOfA() === "alive", 20_000);
      let freeAtHandover: boolean | undefined;
      // Wired as main wires it: a handover stops gossip at once and drains.
      const handler = adminHandler({
        config: () => sidecar.config,
        clusters: () => [],
        registry: sidecar.registry,
        ready: () => sidecar.ready,
        hooks: {
          drain: (reason, opts) => {
            const released = opts?.handover ? sidecar.handOver() : Promise.resolve();
            void sidecar.drain(reason, opts);
            return released;
          },
        },
      }, { onHandover: () => freeAtHandover = gossipPortFree(port) });
      const res = await handler(
        new Request("http://admin/drain?handover=1", { method: "POST" }),
      );
      assert.equal(res.status, 202);
      await res.body?.cancel();
      assert.equal(freeAtHandover, true, "the admin port went while gossip still held its port");
      // The peer's probes of a go unanswered: it suspects a, but never hears a leave.
      await waitFor("the peer to suspect a", () => {
        const s = peer.stateOfA();
        return s !== "alive";
      }, 20_000);
      assert.deepEqual(peer.states.filter((s) => s === "left"), [], peer.states.join(", "));
    } finally {
      await sidecar.stop();
      await peer.m.stop();
    }
  },
);

Deno.test("handover: a plain drain still leaves gracefully", TEST_OPTS, async () => {
  const peer = await startPeer();
  const sidecar = await startSidecar(freePort(), peer.m.address);
  try {
    await waitFor("the peer to hold a alive", () => peer.stateOfA() === "alive", 20_000);
    await sidecar.drain("SIGTERM");
    await waitFor("the peer to hold a as left", () => peer.stateOfA() === "left", 20_000);
  } finally {
    await sidecar.stop();
    await peer.m.stop();
  }
});
