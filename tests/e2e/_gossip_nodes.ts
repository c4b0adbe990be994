/**
 * Gossip nodes for end-to-end tests: `skiff run --events json` child processes on loopback
 * with fast protocol timings, every port chosen by the kernel and read back from the log
 * lines, their membership events parsed from stdout, and their admin API at hand.
 * @module
 */
import type { MembershipEvent } from "../../src/discovery/gossip/swim_node.ts";
import type { MembersView } from "../../src/discovery/member_view.ts";
import { freePort, type SkiffProcess, spawnSkiff, waitFor } from "../_harness/mod.ts";
import { metricsText, sample } from "./_admin_api.ts";

export type { MembershipEvent, MembersView };

/** How one test node is configured. */
export interface GossipNodeOptions {
  /** Its member name (`gossip.name`). */
  name: string;
  /** The gossip cluster name; give each test its own so that nodes of other tests never mix. */
  cluster: string;
  /** Gossip addresses to join through. */
  seeds?: string[];
  /** Services it offers: `name` served at `port` on 127.0.0.1. */
  services?: { name: string; port: number }[];
  /** A service to discover: adds a listener routing everything to a gossip-discovered cluster. */
  discover?: string;
  /** Cluster keys, base64. */
  keys?: string[];
  /** Data-plane Workers (0: the sidecar mode). */
  workers?: number;
}

/** A running test node. */
export interface GossipNode {
  name: string;
  process: SkiffProcess;
  /** Its gossip address, `127.0.0.1:PORT`. */
  gossip: string;
  /** Its admin address, `127.0.0.1:PORT`. */
  admin: string;
  adminUrl: string;
  /** The URL of its listener (nodes with `discover`). */
  url: string;
  /** The membership events it printed so far, in order. */
  events(): MembershipEvent[];
  /**
   * Waits until it printed `event` (one of `events`) about `member`, at or after event index
   * `from`; returns the event's index.
   */
  waitEvent(events: MembershipEvent["event"][], member: string, from?: number): Promise<number>;
  /** Its `/members` answer. */
  members(): Promise<MembersView>;
  /** The sample `name{labels}` of its `/metrics` (0 when absent). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** SIGKILL: no leave announced. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM and wait; returns the exit code. */
  stop(): Promise<number>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Deadline for anything gossip has to do (start, join, detect): generous on a busy machine. */
export const GOSSIP_DEADLINE_MS = 30_000;

/** A fresh cluster name, so that concurrent test files' nodes never join each other. */
export function uniqueCluster(test: string): string {
  return `e2e-${test}-${crypto.randomUUID().slice(0, 8)}`;
}

/** A random base64 AES-256 key. */
export function randomKey(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
}

/** The config file text of a test node (admin and gossip on kernel-chosen ports). */
export function gossipNodeYaml(o: GossipNodeOptions, listenerPort = 0): string {
  const list = (xs: string[]) => `[${xs.map((x) => JSON.stringify(x)).join(", ")}]`;
  const services = (o.services ?? []).map((s) => `{ name: ${s.name}, port: ${s.port} }`);
  const lines = [
    `admin: { address: "127.0.0.1:0" }`,
    `workers: ${o.workers ?? 0}`,
    `listeners:`,
    `  - name: web`,
    `    address: 127.0.0.1:${listenerPort}`,
  ];
  if (o.discover !== undefined) {
    lines.push(
      `    routes: [{ cluster: discovered }]`,
      `clusters:`,
      `  - name: discovered`,
      `    connect_timeout: 500ms`,
      `    discovery: { type: gossip, service: ${o.discover} }`,
    );
  }
  lines.push(
    `gossip:`,
    `  name: ${o.name}`,
    `  bind: 127.0.0.1:0`,
    `  cluster: ${o.cluster}`,
    `  seeds: ${list(o.seeds ?? [])}`,
    `  keys: ${list(o.keys ?? [])}`,
    `  probe_interval: 200ms`,
    `  probe_timeout: 100ms`,
    `  gossip_interval: 100ms`,
    `  push_pull_interval: 2s`,
    `  services: [${services.join(", ")}]`,
  );
  return lines.join("\n") + "\n";
}

function jsonLines(text: string): Record<string, unknown>[] {
  // Only complete lines: the last one may still be arriving.
  return text.split("\n").slice(0, -1).filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

/**
 * Writes the node's config to a temporary file, starts `skiff run -c FILE --events json` and
 * waits until it logged "skiff started", reading its bound addresses from the log.
 *
 * @throws when it exits or does not start within the deadline (the process is stopped)
 */
export async function startGossipNode(o: GossipNodeOptions): Promise<GossipNode> {
  const dir = await Deno.makeTempDir({ prefix: `skiff_e2e_gossip_${o.name}_` });
  const file = `${dir}/skiff.yaml`;
  // Workers each bind the listener with SO_REUSEPORT: port 0 would give each its own port.
  const listenerPort = (o.workers ?? 0) > 0 ? freePort() : 0;
  await Deno.writeTextFile(file, gossipNodeYaml(o, listenerPort));
  const proc = await spawnSkiff(["run", "-c", file, "--events", "json"]);
  let exited = false;
  void proc.child.status.then(() => exited = true);
  const cleanUp = async () => {
    await proc.stop();
    await Deno.remove(dir, { recursive: true });
  };
  let logs: Record<string, unknown>[];
  try {
    logs = (await waitFor(`node ${o.name} started`, () => {
      if (exited) throw new Error(`node ${o.name} exited:\n${proc.stderr()}`);
      const ls = jsonLines(proc.stderr());
      return ls.some((l) => l.msg === "skiff started") ? ls : undefined;
    }, GOSSIP_DEADLINE_MS))!;
  } catch (err) {
    await cleanUp();
    throw err;
  }
  const address = (msg: string) => {
    const a = logs.find((l) => l.msg === msg)?.address;
    if (typeof a !== "string") {
      throw new Error(`node ${o.name} logged no "${msg}":\n${proc.stderr()}`);
    }
    return a;
  };
  const admin = address("admin bound");
  const adminUrl = `http://${admin}`;
  const events = () => jsonLines(proc.stdout()) as unknown as MembershipEvent[];
  return {
    name: o.name,
    process: proc,
    gossip: address("gossip bound"),
    admin,
    adminUrl,
    url: listenerPort > 0
      ? `http://127.0.0.1:${listenerPort}`
      : `http://${address("listener bound")}`,
    events,
    waitEvent: (kinds, member, from = 0) =>
      waitFor(`node ${o.name} printing ${kinds.join(" or ")} of ${member}`, () => {
        const at = events().findIndex((e, i) =>
          i >= from && kinds.includes(e.event) && e.member === member
        );
        return at >= 0 ? at + 1 : undefined; // 1-based so that index 0 is truthy
      }, GOSSIP_DEADLINE_MS).then((i) => i! - 1),
    members: async () => {
      const res = await fetch(`${adminUrl}/members`);
      if (res.status !== 200) throw new Error(`/members of ${o.name} answered ${res.status}`);
      return await res.json() as MembersView;
    },
    metric: async (name, labels = {}) => sample(await metricsText(adminUrl), name, labels) ?? 0,
    kill: async () => {
      if (!exited) proc.child.kill("SIGKILL");
      await proc.wait();
    },
    stop: () => proc.stop(),
    [Symbol.asyncDispose]: cleanUp,
  };
}
