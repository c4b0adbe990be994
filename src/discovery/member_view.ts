import type { MemberInfo } from "./gossip/messages.ts";

/** One member as `/members` and `skiff members` show it (snake_case, as the config reads). */
export interface MemberView {
  name: string;
  /** Its gossip address, `host:port`. */
  address: string;
  state: MemberInfo["state"];
  incarnation: number;
  spiffe_id: string;
  services: { name: string; port: number; protocol: string; labels: Record<string, string> }[];
}

/** What `/members` answers: this node, and every other member it knows of. */
export interface MembersView {
  /** This node's name. */
  self: string;
  /** The gossip cluster name. */
  cluster: string;
  /** This node first, then the others by name. */
  members: MemberView[];
}

/** A member's gossip information as `/members` shows it. */
export function memberView(m: MemberInfo): MemberView {
  return {
    name: m.name,
    address: m.address,
    state: m.state,
    incarnation: m.incarnation,
    spiffe_id: m.spiffeId,
    services: m.services.map((s) => ({ ...s, labels: { ...s.labels } })),
  };
}
