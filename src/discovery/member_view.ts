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

/**
 * The gossip information of a member as `/members` showed it: the inverse of `memberView`,
 * for a process that reads another's `/members` (a hot restart seeding its clusters).
 */
export function memberInfo(v: MemberView): MemberInfo {
  return {
    name: v.name,
    address: v.address,
    state: v.state,
    incarnation: v.incarnation,
    spiffeId: v.spiffe_id,
    services: v.services.map((s) => ({ ...s, labels: { ...s.labels } })),
  };
}

const STATES: readonly string[] = ["alive", "suspect", "dead", "left"];

/**
 * Reads a `/members` answer (parsed JSON), checking its shape, since it comes from another
 * process.
 *
 * @param value the parsed JSON body of `/members`
 * @returns the view, with only the fields `MembersView` names
 * @throws {TypeError} naming the first field that is missing or of the wrong type
 * @example
 * ```ts
 * const view = parseMembersView(await (await fetch(`${admin}/members`)).json());
 * ```
 */
export function parseMembersView(value: unknown): MembersView {
  const obj = (v: unknown, at: string): Record<string, unknown> => {
    if (typeof v === "object" && v !== null && !Array.isArray(v)) {
      return v as Record<string, unknown>;
    }
    throw new TypeError(`/members answer: ${at} is not an object; is it skiff's admin API?`);
  };
  const str = (o: Record<string, unknown>, key: string, at: string): string => {
    if (typeof o[key] === "string") return o[key] as string;
    throw new TypeError(`/members answer: ${at}.${key} is not a string, got ${show(o[key])}`);
  };
  const int = (o: Record<string, unknown>, key: string, at: string): number => {
    const n = o[key];
    if (Number.isSafeInteger(n) && (n as number) >= 0) return n as number;
    throw new TypeError(
      `/members answer: ${at}.${key} is not a whole number from 0, got ${show(n)}`,
    );
  };
  const list = (o: Record<string, unknown>, key: string, at: string): unknown[] => {
    if (Array.isArray(o[key])) return o[key] as unknown[];
    throw new TypeError(`/members answer: ${at}.${key} is not a list, got ${show(o[key])}`);
  };
  const top = obj(value, "the body");
  return {
    self: str(top, "self", "the body"),
    cluster: str(top, "cluster", "the body"),
    members: list(top, "members", "the body").map((raw, i) => {
      const at = `members[${i}]`;
      const m = obj(raw, at);
      const state = str(m, "state", at);
      if (!STATES.includes(state)) {
        throw new TypeError(
          `/members answer: ${at}.state is ${show(state)}; expected one of ${STATES.join(", ")}`,
        );
      }
      return {
        name: str(m, "name", at),
        address: str(m, "address", at),
        state: state as MemberView["state"],
        incarnation: int(m, "incarnation", at),
        spiffe_id: str(m, "spiffe_id", at),
        services: list(m, "services", at).map((rawService, j) => {
          const sat = `${at}.services[${j}]`;
          const s = obj(rawService, sat);
          const labels = obj(s.labels, `${sat}.labels`);
          for (const [k, v] of Object.entries(labels)) {
            if (typeof v !== "string") {
              throw new TypeError(
                `/members answer: ${sat}.labels.${k} is not a string, got ${show(v)}`,
              );
            }
          }
          return {
            name: str(s, "name", sat),
            port: int(s, "port", sat),
            protocol: str(s, "protocol", sat),
            labels: { ...labels } as Record<string, string>,
          };
        }),
      };
    }),
  };
}

function show(v: unknown): string {
  return v === undefined ? "nothing" : JSON.stringify(v);
}
