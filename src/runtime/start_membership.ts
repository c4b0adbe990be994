import type { ClusterConfig, Config } from "../config/schema.ts";
import { DeferredResolver } from "../discovery/deferred_resolver.ts";
import type { MembersView } from "../discovery/member_view.ts";
import type { Resolver } from "../discovery/resolver.ts";
import type { HostFacts, Membership, MembershipDeps, MembershipOptions } from "./membership.ts";

/**
 * Starts membership when the config has a gossip section. The gossip code (protocol, wire
 * format, protobuf) is loaded only then.
 *
 * @param predecessor the `/members` of the process this one replaces (a hot restart): this
 *   member then starts one incarnation above it and joins through its alive members first
 * @throws (as a rejection) when the gossip port cannot be bound, or no host facts are given
 */
export async function startMembership(
  config: Config,
  deps: Omit<MembershipDeps, "host"> & { host?: HostFacts },
  predecessor?: MembersView,
): Promise<Membership | undefined> {
  if (!config.gossip) return undefined;
  if (!deps.host) throw new Error("gossip needs host facts (composition root)");
  const { Membership } = await import("./membership.ts");
  const opts = predecessor && successorOptions(predecessor);
  if (opts) {
    deps.log.info("gossip continues the replaced process's membership", {
      member: predecessor!.self,
      incarnation: opts.incarnation,
      seeds: opts.seeds,
    });
  }
  return await Membership.start(config.gossip, { ...deps, host: deps.host }, opts);
}

/**
 * How a hot-restarted member continues its predecessor's membership, from the predecessor's
 * `/members`: one incarnation above it (peers that never saw it leave take the new process's
 * alive announcement as newer, not as stale), joining through the members it held alive.
 */
export function successorOptions(predecessor: MembersView): MembershipOptions {
  const self = predecessor.members.find((m) => m.name === predecessor.self);
  return {
    incarnation: (self?.incarnation ?? 0) + 1,
    seeds: predecessor.members
      .filter((m) => m.name !== predecessor.self && m.state === "alive")
      .map((m) => m.address),
  };
}

/**
 * Starts membership (see `startMembership`) as the sidecar and the node of Workers both do:
 * with their registry and SVID, then lets `gossip` follow it.
 */
export async function startGossip(
  config: Config,
  deps: Omit<MembershipDeps, "host" | "onEvent" | "spiffeId"> & {
    membership?: Pick<MembershipDeps, "host" | "onEvent">;
    spiffeId?: string;
  },
  gossip: GossipResolvers,
  predecessor?: MembersView,
): Promise<Membership | undefined> {
  const membership = await startMembership(config, {
    clock: deps.clock,
    rng: deps.rng,
    log: deps.log,
    registry: deps.registry,
    host: deps.membership?.host,
    onEvent: deps.membership?.onEvent,
    spiffeId: deps.spiffeId,
  }, predecessor);
  if (membership) gossip.follow(membership);
  return membership;
}

/**
 * The resolvers of a config's gossip-discovered clusters, one per service, usable before
 * membership runs: a hot restart serves its clusters before it may bind the gossip port (the
 * old process holds it until it hands over). Each starts from `seed` — the old process's
 * `/members` — or empty, and follows membership's live resolver once `follow` is called: at
 * once without a seed, else once membership has joined (`Membership.joined`), so that the
 * seed is not swapped for the empty view of a member that has not heard from anyone yet.
 */
export class GossipResolvers {
  readonly #gossip: boolean;
  readonly #byService = new Map<string, DeferredResolver>();
  #seed: MembersView | undefined;
  #membership: Membership | undefined;
  #closed = false;

  /** @param config the config whose `gossip` section decides whether gossip discovery is on */
  constructor(config: Config) {
    this.#gossip = config.gossip !== undefined;
  }

  /**
   * Seeds the services' endpoints from another process's `/members`; only before any
   * resolver was handed out (it changes nothing after).
   */
  seed(view: MembersView): void {
    if (this.#byService.size === 0) this.#seed = view;
  }

  /**
   * The resolver of a gossip-discovered cluster (shared by the clusters of one service), or
   * undefined for a cluster with static endpoints.
   *
   * @throws {Error} when the cluster discovers by gossip but the config has no gossip section
   */
  resolver(cluster: ClusterConfig): Resolver | undefined {
    const d = cluster.discovery;
    if (d.type !== "gossip" || d.service === undefined) return undefined;
    if (!this.#gossip) {
      throw new Error(`cluster "${cluster.name}" discovers by gossip, but it is off`);
    }
    let r = this.#byService.get(d.service);
    if (!r) {
      r = this.#seed ? DeferredResolver.fromMembers(d.service, this.#seed) : new DeferredResolver();
      this.#byService.set(d.service, r);
      if (this.#membership) this.#attach(d.service, r, this.#membership);
    }
    return r;
  }

  /** Switches every resolver, and those handed out later, to `membership`'s live ones. */
  follow(membership: Membership): void {
    if (this.#closed) return;
    this.#membership = membership;
    for (const [service, r] of this.#byService) this.#attach(service, r, membership);
  }

  /** Stops every resolver (membership's own are closed by `Membership.stop`). */
  close(): void {
    this.#closed = true;
    for (const r of this.#byService.values()) r.close();
  }

  /** Makes `r` follow membership's resolver of `service`: now, or once joined when seeded. */
  #attach(service: string, r: DeferredResolver, membership: Membership): void {
    if (!this.#seed) return r.follow(membership.resolver(service));
    void membership.joined.then(() => {
      if (!this.#closed) r.follow(membership.resolver(service));
    });
  }
}
