import type { ClusterConfig, Config } from "../config/schema.ts";
import type { Resolver } from "../discovery/resolver.ts";
import type { HostFacts, Membership, MembershipDeps } from "./membership.ts";

/**
 * Starts membership when the config has a gossip section. The gossip code (protocol, wire
 * format, protobuf) is loaded only then.
 *
 * @throws (as a rejection) when the gossip port cannot be bound, or no host facts are given
 */
export async function startMembership(
  config: Config,
  deps: Omit<MembershipDeps, "host"> & { host?: HostFacts },
): Promise<Membership | undefined> {
  if (!config.gossip) return undefined;
  if (!deps.host) throw new Error("gossip needs host facts (composition root)");
  const { Membership } = await import("./membership.ts");
  return await Membership.start(config.gossip, { ...deps, host: deps.host });
}

/** The resolver of a gossip-discovered cluster, from membership; undefined for static ones. */
export function gossipResolver(
  membership: Membership | undefined,
  cluster: ClusterConfig,
): Resolver | undefined {
  const d = cluster.discovery;
  if (d.type !== "gossip" || d.service === undefined) return undefined;
  if (!membership) throw new Error(`cluster "${cluster.name}" discovers by gossip, but it is off`);
  return membership.resolver(d.service);
}
