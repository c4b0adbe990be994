import type { Clock, Logger, Rng } from "../../core/mod.ts";
import type { Transport } from "../../net/transport.ts";
import type { GossipCodec } from "./messages.ts";
import type { SwimConfig } from "./swim_config.ts";

/** A membership change as a node sees it (one JSON line each in `--events json` mode). */
export interface MembershipEvent {
  /** Unix milliseconds. */
  t: number;
  node: string;
  event: "join" | "suspect" | "dead" | "leave" | "alive";
  member: string;
}

/** What a `SwimNode` needs: its I/O, time and randomness, injected. */
export interface SwimNodeDeps {
  transport: Transport;
  clock: Clock;
  rng: Rng;
  codec: GossipCodec;
  config: SwimConfig;
  log?: Logger;
  /** CPU utilisation 0 … 1, read for the load factor when `config.adaptive`. */
  cpu?: () => number;
  onEvent?: (e: MembershipEvent) => void;
}
