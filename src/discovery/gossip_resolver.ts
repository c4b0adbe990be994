import { parseAddress } from "../config/address.ts";
import type { EndpointSpec } from "./endpoint.ts";
import type { MemberInfo } from "./gossip/messages.ts";
import type { EndpointSet, EndpointWatcher, Resolver } from "./resolver.ts";
import { StaticResolver } from "./static_resolver.ts";

/** What a `GossipResolver` reads: the membership as one node sees it (a `SwimNode`). */
export interface MembershipView {
  /** Every other member known, with its state and services. */
  members(): MemberInfo[];
}

/**
 * The endpoints of one service as gossip membership reports them: every member that is
 * alive or suspected and offers the service becomes an endpoint at its host and the service's
 * port, labelled with the service's labels and the member's name, and expecting the member's
 * SPIFFE ID on a mutual-TLS hop. A member declared dead or gone disappears from the set; one
 * that rejoins comes back. Suspected members stay: a suspicion is not a verdict, and the data
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
    const specs: EndpointSpec[] = [];
    const seen = new Set<string>();
    for (const m of this.#view.members()) {
      if (m.state !== "alive" && m.state !== "suspect") continue;
      const host = parseAddress(m.address)?.hostname;
      if (host === undefined) continue; // not an IP/host address (e.g. a simulator name)
      for (const s of m.services) {
        if (s.name !== this.#service) continue;
        if (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535) continue;
        const key = `${host}:${s.port}`;
        if (seen.has(key)) continue; // two members claiming one address: the first wins
        seen.add(key);
        specs.push({
          address: { hostname: host, port: s.port },
          labels: { ...s.labels, member: m.name },
          spiffeId: m.spiffeId || undefined,
        });
      }
    }
    return this.#set.replace(specs);
  }
}
