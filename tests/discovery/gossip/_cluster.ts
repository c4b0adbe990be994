// A seeded simulator cluster of SwimNodes for the scenario tests, and helpers that run
// virtual time until something holds.
import {
  type MembershipEvent,
  SKIFF_DEFAULTS,
  type SwimConfig,
  SwimNode,
} from "../../../src/discovery/gossip/mod.ts";
import { protobufCodec } from "../../../src/discovery/gossip/wire/mod.ts";
import { SimNetwork } from "../../../src/net/sim/mod.ts";

/** A running cluster in the simulator. */
export interface Cluster {
  net: SimNetwork;
  nodes: Map<string, SwimNode>;
  events: MembershipEvent[];
  /** Starts (or restarts) member `name`, joining through n0. */
  boot(name: string): Promise<SwimNode>;
}

/** Boots `n` members (n0 … n{n-1}), each joining through n0, on a clean LAN. */
export async function cluster(
  n: number,
  seed: number,
  config: SwimConfig = SKIFF_DEFAULTS,
): Promise<Cluster> {
  const net = new SimNetwork({ seed, defaults: { latencyMs: 2, jitterMs: 1 } });
  const nodes = new Map<string, SwimNode>();
  const events: MembershipEvent[] = [];
  let nonces = 0;
  const boot = async (name: string) => {
    nodes.get(name)?.stop();
    const sim = nodes.has(name) ? net.restart(name) : net.node(name);
    const node = new SwimNode(
      { name, address: name, incarnation: 0, spiffeId: "", services: [] },
      {
        transport: sim.transport,
        clock: sim.clock,
        rng: sim.rng,
        // The real wire format, in plaintext. Nonces count up (unique, and the same in every
        // run with the seed, as the trace hash needs) and leave the node's rng alone.
        // jsonCodec is still there for traces a person reads.
        codec: protobufCodec({
          cluster: "sim",
          clock: sim.clock,
          maxPacketBytes: sim.transport.maxPacketBytes,
          randomBytes: (into) => new DataView(into.buffer, into.byteOffset).setUint32(8, ++nonces),
        }),
        config,
        onEvent: (e) => events.push(e),
      },
    );
    nodes.set(name, node);
    const joined = node.start(name === "n0" ? [] : ["n0"]);
    await net.runFor(50);
    await joined;
    return node;
  };
  for (let i = 0; i < n; i++) await boot(`n${i}`);
  return { net, nodes, events, boot };
}

/** Runs virtual time in steps until `cond` holds or `maxMs` passed; returns the time taken. */
export async function until(c: Cluster, cond: () => boolean, maxMs: number): Promise<number> {
  const start = c.net.now;
  while (!cond()) {
    if (c.net.now - start > maxMs) throw new Error(`Not within ${maxMs} virtual ms`);
    await c.net.runFor(100);
  }
  return c.net.now - start;
}

/** Every member but `subject` and `except` holds `subject` in `state`. */
export function allSee(c: Cluster, subject: string, state: string, except: string[] = []): boolean {
  for (const [name, node] of c.nodes) {
    if (name === subject || except.includes(name)) continue;
    if (node.stateOf(subject) !== state) return false;
  }
  return true;
}
