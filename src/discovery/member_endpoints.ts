import { parseAddress } from "../config/address.ts";
import type { EndpointSpec } from "./endpoint.ts";
import type { MemberInfo } from "./gossip/messages.ts";

/**
 * The endpoints of one service among gossip members: every member that is alive or
 * suspected and offers the service becomes an endpoint at its host and the service's port,
 * labelled with the service's labels and the member's name, and expecting the member's SPIFFE
 * ID on a mutual-TLS hop. Dead and departed members, members whose address is not a
 * `host:port` (a simulator name) and ports out of range are left out; when two members claim
 * one host and port, the first wins.
 *
 * The one mapping from membership to endpoints: `GossipResolver` applies it to the live
 * membership, `DeferredResolver.fromMembers` to a predecessor's `/members` at a hot restart.
 *
 * @param service the service name members announce (`services[].name`)
 * @param members the members to read, in order
 * @returns the endpoint descriptions, in member order
 * @example
 * ```ts
 * memberEndpoints("web", [{
 *   name: "b", address: "10.0.0.2:7946", incarnation: 0, state: "alive", spiffeId: "",
 *   services: [{ name: "web", port: 8080, protocol: "http", labels: {} }],
 * }]); // [{ address: { hostname: "10.0.0.2", port: 8080 }, labels: { member: "b" } }]
 * ```
 */
export function memberEndpoints(service: string, members: Iterable<MemberInfo>): EndpointSpec[] {
  const specs: EndpointSpec[] = [];
  const seen = new Set<string>();
  for (const m of members) {
    if (m.state !== "alive" && m.state !== "suspect") continue;
    const host = parseAddress(m.address)?.hostname;
    if (host === undefined) continue; // not an IP/host address (e.g. a simulator name)
    for (const s of m.services) {
      if (s.name !== service) continue;
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
  return specs;
}
