import { formatAddress, parseAddress, type SocketAddress } from "./address.ts";
import type { ConfigPath, PathIssue } from "./_path.ts";
import { ConfigSchema } from "./schema.ts";
import { Gossip } from "./_gossip_schema.ts";
import { suggest } from "./suggest.ts";

/**
 * The checks of names, addresses and references to clusters: names and addresses are unique
 * (listeners, clusters, gossip services, the endpoints of a cluster, the ports skiff listens
 * on) and every cluster a route or tcp proxy names is defined.
 *
 * They read the parsed YAML as it is, before and whether or not the schema holds, so that
 * one run reports them together with schema problems. Parts that are malformed (a name that
 * is not text, an address that does not parse, a list that is not a list) are left out, as
 * the schema reports them; references are only checked when every cluster has a name to be
 * referred to by.
 *
 * @param data the document as plain data (YAML's `toJS()`)
 * @returns every problem found, in no particular order; empty when there is none
 */
export function checkReferences(data: unknown): PathIssue[] {
  const clusters = items(field(data, "clusters"));
  const listeners = items(field(data, "listeners"));
  const services = items(field(field(data, "gossip"), "services"));
  return [
    ...uniqueNames(clusters, ["clusters"], "cluster"),
    ...uniqueNames(listeners, ["listeners"], "listener"),
    ...uniqueNames(services, ["gossip", "services"], "service"),
    ...clusters.flatMap((c, i) => uniqueEndpoints(c, i)),
    ...addressConflicts(data, listeners),
    ...clusterReferences(data, listeners),
  ];
}

/** The value of `key` in a mapping, or `undefined` when `value` is no mapping. */
function field(value: unknown, key: string): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  return Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}

/** The items of a list, or none when `value` is no list. */
function items(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Whether the top-level mapping has a key the schema does not know. */
function hasUnknownKeys(data: unknown): boolean {
  return typeof data === "object" && data !== null &&
    Object.keys(data).some((key) => !Object.hasOwn(ConfigSchema.shape, key));
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function uniqueNames(
  list: readonly unknown[],
  at: readonly string[],
  what: string,
): PathIssue[] {
  const first = new Map<string, number>();
  const issues: PathIssue[] = [];
  list.forEach((item, i) => {
    const name = text(field(item, "name"));
    if (name === undefined) return;
    const j = first.get(name);
    if (j === undefined) first.set(name, i);
    else {
      issues.push({
        path: [...at, i, "name"],
        message: `${what} name "${name}" is already used by ${at.join(".")}[${j}]`,
        fix: `give each ${what} a name of its own`,
      });
    }
  });
  return issues;
}

/** A cluster's endpoints: each address once (the data plane refuses a repeat). */
function uniqueEndpoints(cluster: unknown, i: number): PathIssue[] {
  const seen: { addr: SocketAddress; k: number }[] = [];
  const issues: PathIssue[] = [];
  items(field(cluster, "endpoints")).forEach((endpoint, k) => {
    const raw = text(field(endpoint, "address"));
    const addr = raw === undefined ? undefined : parseAddress(raw);
    if (addr === undefined) return;
    const other = seen.find((s) => sameAddress(s.addr, addr));
    if (other === undefined) {
      seen.push({ addr, k });
      return;
    }
    issues.push({
      path: ["clusters", i, "endpoints", k, "address"],
      message: `endpoint address "${formatAddress(addr)}" is already listed by ` +
        `clusters[${i}].endpoints[${other.k}]`,
      fix: "list each address once; to send it a larger share of traffic, raise its weight",
    });
  });
  return issues;
}

function addressConflicts(data: unknown, listeners: readonly unknown[]): PathIssue[] {
  const issues: PathIssue[] = [];
  const taken: { addr: SocketAddress; owner: string }[] = [];
  const claim = (addr: SocketAddress, path: ConfigPath, what: string) => {
    const other = taken.find((t) => overlaps(t.addr, addr));
    if (other) {
      const same = sameAddress(other.addr, addr);
      issues.push({
        path,
        message: same
          ? `${what} "${formatAddress(addr)}" is already used by ${other.owner}`
          : `${what} "${formatAddress(addr)}" overlaps "${formatAddress(other.addr)}" of ` +
            `${other.owner} — a wildcard address takes the port on every interface`,
        fix: "give each listener, the admin server and gossip a port of its own",
      });
    }
    return other === undefined;
  };
  listeners.forEach((l, i) => {
    const addr = bindAddress(field(l, "address"));
    if (addr && claim(addr, ["listeners", i, "address"], "address")) {
      const name = text(field(l, "name"));
      const owner = name === undefined ? `listeners[${i}]` : `listener "${name}" (listeners[${i}])`;
      taken.push({ addr, owner });
    }
  });
  const admin = bindAddress(field(field(data, "admin"), "address"));
  if (admin && claim(admin, ["admin", "address"], "admin address")) {
    taken.push({ addr: admin, owner: "the admin server" });
  }
  const gossip = field(data, "gossip");
  if (typeof gossip === "object" && gossip !== null && !Array.isArray(gossip)) {
    // An absent bind is the schema's default, which takes a port as well.
    const bind = Gossip.shape.bind.safeParse(field(gossip, "bind"));
    if (bind.success) claim(bind.data, ["gossip", "bind"], "gossip address");
  }
  return issues;
}

function bindAddress(value: unknown): SocketAddress | undefined {
  return typeof value === "string" ? parseAddress(value, { allowPortZero: true }) : undefined;
}

function sameAddress(a: SocketAddress, b: SocketAddress): boolean {
  return a.port === b.port && a.hostname.toLowerCase() === b.hostname.toLowerCase();
}

/** Whether two listening sockets would fight over a port: same address, or a wildcard. */
function overlaps(a: SocketAddress, b: SocketAddress): boolean {
  if (a.port !== b.port || a.port === 0) return false; // port 0: each gets its own free port
  if (sameAddress(a, b) || a.hostname === "::" || b.hostname === "::") return true;
  const ipv4Side = (x: SocketAddress) => !x.hostname.includes(":");
  return (a.hostname === "0.0.0.0" && ipv4Side(b)) || (b.hostname === "0.0.0.0" && ipv4Side(a));
}

function clusterReferences(data: unknown, listeners: readonly unknown[]): PathIssue[] {
  const clusters = field(data, "clusters");
  // Absent, the list is empty, unless it may be under a misspelt key (`cluster:`); anything
  // else but a list is the schema's to report.
  if (clusters === undefined ? hasUnknownKeys(data) : !Array.isArray(clusters)) return [];
  const defined = items(clusters).map((c) => text(field(c, "name")));
  // A cluster without a name as text could be the one a reference means: check none.
  if (defined.some((name) => name === undefined)) return [];
  const known = new Set(defined as string[]);
  const names = [...known];
  const issues: PathIssue[] = [];
  const check = (value: unknown, path: ConfigPath) => {
    const name = text(value);
    if (name === undefined || known.has(name)) return;
    const near = suggest(name, names);
    issues.push({
      path,
      message: `unknown cluster "${name}"` + (near ? ` — did you mean "${near}"?` : ""),
      fix: names.length === 0
        ? `define a cluster named "${name}" under clusters`
        : `define it under clusters, or use one of: ${names.join(", ")}`,
    });
  };
  listeners.forEach((l, i) => {
    items(field(l, "routes")).forEach((r, k) => {
      const at = ["listeners", i, "routes", k];
      check(field(r, "cluster"), [...at, "cluster"]);
      items(field(r, "weighted_clusters")).forEach((w, n) =>
        check(field(w, "cluster"), [...at, "weighted_clusters", n, "cluster"])
      );
      check(field(field(r, "fallback"), "cluster"), [...at, "fallback", "cluster"]);
    });
    check(field(field(l, "tcp"), "cluster"), ["listeners", i, "tcp", "cluster"]);
  });
  return issues;
}
