import type { MemberInfo } from "./gossip/messages.ts";
import { memberEndpoints } from "./member_endpoints.ts";
import type { EndpointSet, EndpointWatcher, Resolver } from "./resolver.ts";
import { StaticResolver } from "./static_resolver.ts";

/** What a `GossipResolver` reads: the membership as one node sees it (a `SwimNode`). */
export interface MembershipView {
  /** Every other member known, with its state and services. */
  members(): MemberInfo[];
}

/**
 * The endpoints of one service as gossip membership reports them (see `memberEndpoints`):
 * every member that is alive or suspected and offers the service is an endpoint. A member
 * declared dead or gone disappears from the set; one that rejoins comes back. Suspected members stay: a suspicion is not a verdict, and the data
 * plane's own outlier handling judges endpoints independently of gossip.
 *
 * Call `refresh()` when membership changes (on the node's membership events); watchers hear
 * of a new set only when it differs.
 */
export class GossipResolver implements Resolver {
  readonly #service: string;
  readonly #view: MembershipView;
  readonly #set = new StaticResolver([]);

  /**
   * @param service the service name members announce (`services[].name`)
   * @param view the membership to read
   */
  constructor(service: string, view: MembershipView) {
    this.#service = service;
    this.#view = view;
    this.refresh();
  }

  current(): EndpointSet {
    return this.#set.current();
  }

  watch(fn: EndpointWatcher): () => void {
    return this.#set.watch(fn);
  }

  close(): void {
    this.#set.close();
  }

  /**
   * Reads the membership again.
   *
   * @returns true when the endpoint set changed (and watchers were told)
   */
  refresh(): boolean {
    return this.#set.replace(memberEndpoints(this.#service, this.#view.members()));
  }
}
