import type { EndpointSpec } from "./endpoint.ts";
import { memberEndpoints } from "./member_endpoints.ts";
import { memberInfo, type MembersView } from "./member_view.ts";
import type { EndpointSet, EndpointWatcher, Resolver } from "./resolver.ts";
import { StaticResolver } from "./static_resolver.ts";

/**
 * A resolver that serves a seed set of endpoints until its live source exists, then follows
 * that source. A hot restart needs it: the new process serves gossip-discovered clusters
 * before it may start gossip (the old process still holds the gossip port), so it starts them
 * from the old process's `/members` and switches to its own membership once that has joined.
 *
 * Versions keep growing across the switch, and watchers hear of the switch only when the live
 * set differs from the seed.
 *
 * @example
 * ```ts
 * const view = parseMembersView(await (await fetch(`${oldAdmin}/members`)).json());
 * const r = DeferredResolver.fromMembers("web", view);
 * r.current(); // the endpoints of "web" the old process knew
 * // ... once this process's membership has joined
 * r.follow(membership.resolver("web"));
 * ```
 */
export class DeferredResolver implements Resolver {
  readonly #set: StaticResolver;
  #unfollow: (() => void) | undefined;
  #following = false;
  #closed = false;

  /**
   * @param seed the endpoints served until `follow` (none by default)
   * @throws {TypeError} when two endpoints share an address
   * @throws {RangeError} when a weight or port is out of range (see `toEndpoint`)
   */
  constructor(seed: readonly EndpointSpec[] = []) {
    this.#set = new StaticResolver(seed);
  }

  /**
   * A resolver seeded with the endpoints of `service` among the members of `view` (another
   * skiff's `/members`), mapped as `GossipResolver` maps live members (`memberEndpoints`).
   * The view's own node is left out: it is the process being replaced, and a node is never an
   * endpoint of its own membership.
   *
   * @param service the service name members announce
   * @param view a `/members` answer (see `parseMembersView`)
   */
  static fromMembers(service: string, view: MembersView): DeferredResolver {
    const others = view.members.filter((m) => m.name !== view.self).map(memberInfo);
    return new DeferredResolver(memberEndpoints(service, others));
  }

  /** True once `follow` was called: the set is the live source's. */
  get following(): boolean {
    return this.#following;
  }

  /** See `Resolver.current`. */
  current(): EndpointSet {
    return this.#set.current();
  }

  /** See `Resolver.watch`. */
  watch(fn: EndpointWatcher): () => void {
    return this.#set.watch(fn);
  }

  /**
   * Switches to `live`: takes its current set now and each of its changes from then on, until
   * `close` (or a later `follow`, which switches again). Does nothing once closed.
   *
   * @throws what a watcher threw (see `StaticResolver.replace`); the switch is made regardless
   */
  follow(live: Resolver): void {
    if (this.#closed) return;
    this.#unfollow?.();
    this.#following = true;
    this.#unfollow = live.watch((set) => this.#set.replace(set.endpoints));
    this.#set.replace(live.current().endpoints);
  }

  /** See `Resolver.close`; also stops following the live source (which stays open). */
  close(): void {
    this.#closed = true;
    this.#unfollow?.();
    this.#unfollow = undefined;
    this.#set.close();
  }
}
