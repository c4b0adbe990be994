import { seededRng } from "../../core/rng.ts";
import type { NodeState, SimHost } from "./_sim_host.ts";
import { SimClock } from "./sim_clock.ts";
import type { SimNode } from "./sim_options.ts";
import { SimTransport } from "./sim_transport.ts";

/**
 * The handle of `state`'s current generation: a new transport and clock on `host`, and a
 * generator seeded from the network `seed`, the node's name and its restart count.
 */
export function nodeHandle(host: SimHost, seed: number, state: NodeState): SimNode {
  const clock = new SimClock(host, state, state.gen);
  return {
    name: state.name,
    transport: new SimTransport(host, state, state.gen),
    clock,
    rng: seededRng(seed ^ hashName(state.name) ^ Math.imul(state.gen + 1, 0x9e3779b1)),
  };
}

function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
