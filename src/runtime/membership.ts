import { formatAddress } from "../config/address.ts";
import type { GossipConfig } from "../config/schema.ts";
import type { Clock, Logger, Rng, Timer } from "../core/mod.ts";
import type { GossipCodec, MemberInfo } from "../discovery/gossip/messages.ts";
import {
  BASIC_SWIM,
  MEMBERLIST_DEFAULTS,
  SKIFF_CONSERVATIVE,
  SKIFF_DEFAULTS,
  type SwimConfig,
} from "../discovery/gossip/swim_config.ts";
import { type MembershipEvent, SwimNode } from "../discovery/gossip/swim_node.ts";
import { Keyring, protobufCodec, ReplayGuard } from "../discovery/gossip/wire/mod.ts";
import { GossipResolver } from "../discovery/gossip_resolver.ts";
import { type MembersView, memberView } from "../discovery/member_view.ts";
import { UdpTransport } from "../net/udp_transport.ts";
import type { MetricsRegistry } from "../telemetry/mod.ts";

/** What the host tells membership about itself (read by the composition root). */
export interface HostFacts {
  /** The machine's host name (the default member name starts with it). */
  hostname(): string;
  /** A non-loopback IPv4 address to advertise when bound to all interfaces, if any. */
  privateAddress(): string | undefined;
  /** CPU utilisation 0 … 1, for the probe load factor. */
  cpu(): number;
}

/** What `Membership.start` needs. */
export interface MembershipDeps {
  clock: Clock;
  rng: Rng;
  log: Logger;
  registry: MetricsRegistry;
  host: HostFacts;
  /** Told of every membership change (e.g. `--events json`). */
  onEvent?: (e: MembershipEvent) => void;
  /** This workload's SPIFFE ID (from its SVID), announced unless the config names one. */
  spiffeId?: string;
}

const PRESETS: Record<GossipConfig["preset"], Readonly<SwimConfig>> = {
  skiff: SKIFF_DEFAULTS,
  "skiff-conservative": SKIFF_CONSERVATIVE,
  memberlist: MEMBERLIST_DEFAULTS,
  basic: BASIC_SWIM,
};

/**
 * How this member starts, besides its config: a hot restart continues its predecessor's
 * membership (see `Membership.start`).
 */
export interface MembershipOptions {
  /**
   * This member's first incarnation (default 0). A hot-restarted member starts one above its
   * predecessor's, so that peers take its alive announcement as the same member, newer.
   */
  incarnation?: number;
  /** Gossip addresses to join through first, before the config's seeds. */
  seeds?: readonly string[];
}

/** First and longest wait between attempts to join through the seeds. */
const JOIN_RETRY_MS = [1000, 30_000] as const;

/**
 * This node's gossip membership: a SWIM node on UDP and TCP (one port), announcing the
 * services of the `gossip` section, joining through its seeds (retried until one answers,
 * so nodes may start in any order), and one `GossipResolver` per discovered service, kept
 * fresh on every membership change. Runs in the main isolate in both modes.
 */
export class Membership {
  readonly #node: SwimNode;
  readonly #transport: UdpTransport;
  readonly #self: Omit<MemberInfo, "state" | "incarnation">;
  readonly #config: GossipConfig;
  readonly #deps: MembershipDeps;
  readonly #resolvers = new Map<string, GossipResolver>();
  readonly #seeds: readonly string[];
  readonly #joined = Promise.withResolvers<boolean>();
  #joinTimer: Timer | undefined;
  #stopped = false;

  private constructor(
    transport: UdpTransport,
    codec: GossipCodec,
    self: Omit<MemberInfo, "state" | "incarnation">,
    config: GossipConfig,
    deps: MembershipDeps,
    opts: MembershipOptions,
  ) {
    this.#transport = transport;
    this.#self = self;
    this.#config = config;
    this.#deps = deps;
    const seeds = [...opts.seeds ?? [], ...config.seeds.map(formatAddress)];
    this.#seeds = [...new Set(seeds)].filter((s) => s !== transport.address);
    const events = deps.registry.counter(
      "skiff_gossip_events",
      "Membership changes this node saw, by kind.",
      ["event"],
    );
    this.#node = new SwimNode({ ...self, incarnation: opts.incarnation ?? 0 }, {
      transport,
      clock: deps.clock,
      rng: deps.rng,
      codec,
      config: swimConfig(config),
      log: deps.log.child({ component: "gossip" }),
      cpu: () => deps.host.cpu(),
      onEvent: (e) => {
        events.labels(e.event).inc();
        deps.log.info(`member ${e.event}`, { member: e.member });
        for (const r of this.#resolvers.values()) r.refresh();
        deps.onEvent?.(e);
      },
    });
    this.#registerMetrics();
  }

  /**
   * Binds the gossip port, starts the protocol and begins joining through the seeds (in the
   * background: it resolves once bound, not once joined; see `joined`).
   *
   * @param opts the first incarnation and extra seeds (a hot restart's); none by default
   * @throws (as a rejection) when the gossip port cannot be bound
   */
  static async start(
    config: GossipConfig,
    deps: MembershipDeps,
    opts: MembershipOptions = {},
  ): Promise<Membership> {
    const { log, host } = deps;
    const bind = config.bind;
    const advertise = config.advertise
      ? formatAddress(config.advertise)
      : (bound: { hostname: string; port: number }) => {
        const wildcard = bound.hostname === "0.0.0.0" || bound.hostname === "::";
        const hostname = wildcard ? host.privateAddress() ?? "127.0.0.1" : bound.hostname;
        return formatAddress({ hostname, port: bound.port });
      };
    let transport: UdpTransport;
    try {
      transport = await UdpTransport.listen({
        hostname: bind.hostname,
        port: bind.port,
        maxPacketBytes: config.max_packet_bytes,
        advertise,
        clock: deps.clock,
        onHandlerError: (err) => log.error("gossip handler failed (bug)", { err }),
      });
    } catch (err) {
      if (!(err instanceof Deno.errors.AddrInUse)) throw err;
      const address = formatAddress(bind);
      throw new Deno.errors.AddrInUse(
        `gossip cannot bind ${address} (UDP and TCP): the address is already in use — another ` +
          `program listens on it: stop it, or choose another port in gossip.bind`,
        { cause: err },
      );
    }
    const keyring = config.keys.length > 0 ? Keyring.create(config.keys) : undefined;
    const codec = protobufCodec({
      cluster: config.cluster,
      clock: deps.clock,
      keyring,
      acceptPlaintext: config.accept_plaintext,
      replay: keyring ? new ReplayGuard({ clock: deps.clock }) : undefined,
      compress: true,
      maxPacketBytes: transport.maxPacketBytes,
    });
    const self = {
      name: config.name ?? `${host.hostname()}-${transport.port}`,
      address: transport.address,
      spiffeId: config.spiffe_id ?? deps.spiffeId ?? "",
      services: config.services.map((s) => ({ ...s, labels: { ...s.labels } })),
    };
    const membership = new Membership(transport, codec, self, config, deps, opts);
    log.info("gossip bound", {
      address: transport.address,
      name: self.name,
      cluster: config.cluster,
      encrypted: keyring !== undefined,
      preset: config.preset,
      incarnation: membership.#node.incarnation,
    });
    await membership.#node.start([]);
    void membership.#join(JOIN_RETRY_MS[0]);
    return membership;
  }

  /** This member's name. */
  get name(): string {
    return this.#self.name;
  }

  /** This member's current incarnation. */
  get incarnation(): number {
    return this.#node.incarnation;
  }

  /** The gossip address others reach this node at. */
  get address(): string {
    return this.#transport.address;
  }

  /**
   * Settles once this node knows other members after a seed answered (true), or once the
   * first attempt through every seed is over without that (false; at once without seeds).
   * Joining goes on in the background either way.
   */
  get joined(): Promise<boolean> {
    return this.#joined.promise;
  }

  /** Every other member known, with its state. */
  members(): MemberInfo[] {
    return this.#node.members();
  }

  /** This node and its view of the others, as `/members` shows them. */
  view(): MembersView {
    const self = memberView({ ...this.#self, incarnation: this.#node.incarnation, state: "alive" });
    const others = this.#node.members().map(memberView).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0
    );
    return { self: this.#self.name, cluster: this.#config.cluster, members: [self, ...others] };
  }

  /** The endpoints of `service` as membership reports them (one resolver per service). */
  resolver(service: string): GossipResolver {
    let r = this.#resolvers.get(service);
    if (!r) {
      r = new GossipResolver(service, this.#node);
      this.#resolvers.set(service, r);
    }
    return r;
  }

  /**
   * Closes the gossip sockets; first announces a graceful leave, unless `leave` is false:
   * a hot restart's old process stops without one, so that peers keep the member alive while
   * its successor takes over (it rejoins at a higher incarnation). Idempotent.
   */
  async stop(opts: { leave?: boolean } = {}): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#joinTimer?.cancel();
    if (opts.leave ?? true) this.#node.leave();
    else {
      this.#node.stop();
      this.#deps.log.info("gossip stopped without a leave: a successor continues the member", {
        member: this.name,
        incarnation: this.#node.incarnation,
      });
    }
    this.#joined.resolve(false);
    await this.#transport.close();
    for (const r of this.#resolvers.values()) r.close();
  }

  /**
   * Joins through the seeds, one push-pull each; settles `joined` at the first that teaches
   * us members; retries with growing waits until a seed answers or a peer finds us.
   */
  async #join(waitMs: number): Promise<void> {
    const seeds = this.#seeds;
    let answered = 0;
    for (const seed of seeds) {
      if (this.#stopped) return;
      answered += await this.#node.join([seed]);
      // A seed that answered with a state we could not read (another cluster, another key)
      // taught us nothing: only members learned count as joined.
      if (this.#node.members().length > 0) this.#joined.resolve(true);
    }
    if (this.#stopped) return;
    const learned = this.#node.members().length > 0;
    this.#joined.resolve(learned);
    if (seeds.length === 0) return;
    if (learned) {
      this.#deps.log.info("gossip joined", { seeds: answered, members: this.members().length });
      return;
    }
    this.#deps.log.warn("no gossip seed answered with a readable state; retrying", {
      seeds,
      answered,
      retryInMs: waitMs,
    });
    this.#joinTimer = this.#deps.clock.setTimer(
      () => void this.#join(Math.min(waitMs * 2, JOIN_RETRY_MS[1])),
      waitMs,
    );
  }

  #registerMetrics(): void {
    const r = this.#deps.registry;
    const node = this.#node;
    r.gaugeFamilyFn(
      "skiff_gossip_members",
      "Members this node knows of (itself included), by state.",
      ["state"],
      () => {
        const counts: Record<string, number> = { alive: 1, suspect: 0, dead: 0, left: 0 };
        for (const m of node.members()) counts[m.state]++;
        return Object.entries(counts).map(([state, value]) => ({ labelValues: [state], value }));
      },
    );
    r.gaugeFn(
      "skiff_gossip_health_score",
      "Lifeguard local health score: 0 is healthy; higher stretches probe timings.",
      () => node.health,
    );
    // The node keeps plain tallies; they reach the counters at every scrape.
    const sent = r.counter("skiff_gossip_packets_sent", "Gossip packets sent, by first message.", [
      "kind",
    ]);
    const sentBytes = r.counter("skiff_gossip_sent_bytes", "Gossip packet bytes sent.", ["kind"]);
    const dropped = r.counter(
      "skiff_gossip_packets_dropped",
      "Gossip packets dropped on arrival (garbage, foreign cluster, wrong key, replayed), by reason.",
      ["reason"],
    );
    const seen = new Map<string, number>();
    const catchUp = (key: string, total: number, inc: (n: number) => void) => {
      const before = seen.get(key) ?? 0;
      if (total > before) inc(total - before);
      seen.set(key, total);
    };
    r.beforeCollect(() => {
      for (const [kind, s] of node.sent) {
        catchUp(`p:${kind}`, s.packets, (n) => sent.labels(kind).inc(n));
        catchUp(`b:${kind}`, s.bytes, (n) => sentBytes.labels(kind).inc(n));
      }
      for (const [reason, n] of node.dropped) {
        catchUp(`d:${reason}`, n, (k) => dropped.labels(reason).inc(k));
      }
    });
  }
}

/** The preset of the config with its overrides applied. */
export function swimConfig(config: GossipConfig): SwimConfig {
  const swim = { ...PRESETS[config.preset] };
  if (config.probe_interval !== undefined) swim.probeIntervalMs = config.probe_interval;
  if (config.probe_timeout !== undefined) swim.probeTimeoutMs = config.probe_timeout;
  if (config.gossip_interval !== undefined) swim.gossipIntervalMs = config.gossip_interval;
  if (config.push_pull_interval !== undefined) swim.pushPullIntervalMs = config.push_pull_interval;
  return swim;
}
