import type { Config } from "../config/schema.ts";
import { formatAddress, type SocketAddress } from "../config/address.ts";
import type { Logger } from "../core/logger.ts";
import type { ClusterView } from "../dataplane/cluster_view.ts";
import type { MembersView } from "../discovery/member_view.ts";
import type { LifecycleHooks } from "./lifecycle.ts";
import {
  type MetricsRegistry,
  PROMETHEUS_CONTENT_TYPE,
  renderPrometheus,
} from "../telemetry/mod.ts";

/** What the admin API reads from the running sidecar. */
export interface AdminSource {
  /** The effective (validated, defaults applied) configuration. */
  config(): Config;
  /** The clusters as `/clusters` shows them (summed over Workers in node mode). */
  clusters(): Iterable<ClusterView>;
  /** Gossip membership as `/members` shows it; absent when gossip is off. */
  members?: () => MembersView;
  registry: MetricsRegistry;
  /** True once every listener is bound and the first config is active, until a drain starts. */
  ready(): boolean;
  /** `POST /reload` and `POST /drain`; answered 404 when absent. */
  hooks?: LifecycleHooks;
  /** The last shadow check's report (`/config/diff`); absent when `reload.shadow` is off. */
  configDiff?: () => unknown;
}

/**
 * Answers one admin request: `/ready`, `/config`, `/clusters`, `/members`, `/metrics`. Exposed as a
 * function so it can be exercised without a socket.
 */
export function adminHandler(src: AdminSource): (req: Request) => Response {
  return (req) => {
    const url = new URL(req.url);
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    switch (url.pathname) {
      case "/ready":
        return src.ready() ? new Response("ready\n") : new Response("not ready\n", { status: 503 });
      case "/config":
        return json(redacted(src.config()), configReplacer);
      case "/clusters":
        return json([...src.clusters()]);
      case "/members":
        return src.members
          ? json(src.members())
          : new Response("gossip is off: add a gossip section to the config\n", { status: 404 });
      case "/metrics":
        return new Response(renderPrometheus(src.registry), {
          headers: { "content-type": PROMETHEUS_CONTENT_TYPE },
        });
      case "/":
        return new Response("skiff admin: /ready /config /clusters /members /metrics\n");
      default:
        return new Response("not found\n", { status: 404 });
    }
  };
}

function json(value: unknown, replacer?: (k: string, v: unknown) => unknown): Response {
  return new Response(JSON.stringify(value, replacer, 2) + "\n", {
    headers: { "content-type": "application/json" },
  });
}

/** The config without its secrets: the gossip cluster keys show how many, not what. */
function redacted(config: Config): unknown {
  const g = config.gossip;
  return g ? { ...config, gossip: { ...g, keys: g.keys.map(() => "(redacted)") } } : config;
}

/** Shows socket addresses as `host:port`, as they are written in the config file. */
function configReplacer(_key: string, value: unknown): unknown {
  if (
    value !== null && typeof value === "object" && "hostname" in value && "port" in value &&
    Object.keys(value).length === 2
  ) {
    return formatAddress(value as SocketAddress);
  }
  return value;
}

/** The admin HTTP server on its own port. */
export class AdminServer {
  readonly #server: Deno.HttpServer<Deno.NetAddr>;

  /** Binds `address` and serves `src`. @throws when the address cannot be bound */
  constructor(address: SocketAddress, src: AdminSource, log: Logger) {
    this.#server = Deno.serve({
      hostname: address.hostname,
      port: address.port,
      onListen: () => {},
      onError: (err) => {
        log.error("admin request failed", { err });
        return new Response("internal error\n", { status: 500 });
      },
    }, adminHandler(src));
  }

  /** The bound address. */
  get addr(): Deno.NetAddr {
    return this.#server.addr;
  }

  /** Stops the server. */
  async close(): Promise<void> {
    await this.#server.shutdown();
  }
}
