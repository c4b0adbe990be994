import type { Config } from "../config/schema.ts";
import { formatAddress, type SocketAddress } from "../config/address.ts";
import { formatDuration } from "../config/duration.ts";
import { durationKeys } from "../config/json_schema.ts";
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

/** How `adminHandler` stamps and reacts beyond its source. */
export interface AdminHandlerOptions {
  /** Sent as `x-skiff-pid` on every response, so a caller knows which process answered. */
  pid?: number;
  /**
   * Runs after a successor's `POST /drain?handover=1` was accepted: the admin server lets its
   * port go at once, so the successor can bind it.
   */
  onHandover?: () => void;
}

/** The methods each admin path answers; any other method on them is 405. */
const ALLOWED: Record<string, string> = {
  "/": "GET, HEAD",
  "/ready": "GET, HEAD",
  "/config": "GET, HEAD",
  "/config/diff": "GET, HEAD",
  "/clusters": "GET, HEAD",
  "/members": "GET, HEAD",
  "/metrics": "GET, HEAD",
  "/drain": "POST",
  "/reload": "POST",
};

const INDEX = `skiff admin
  GET  /ready        200 once listeners are bound and the config is active, 503 otherwise
  GET  /config       the active config (secrets redacted)
  GET  /config/diff  the last shadow check of a reload (reload.shadow: true)
  GET  /clusters     clusters and their endpoints
  GET  /members      gossip membership
  GET  /metrics      Prometheus metrics
  POST /reload       read the config file again and apply it
  POST /drain        stop accepting, finish in-flight work, exit 0
                     (?handover=1: a hot-restarting successor takes the admin port)
`;

/**
 * Answers one admin request: `/ready`, `/config`, `/config/diff`, `/clusters`, `/members`,
 * `/metrics`, `POST /reload` and `POST /drain`. Exposed as a function so it can be exercised
 * without a socket.
 *
 * @param src what the running skiff shows and what it can be asked to do
 * @param opts the pid to stamp on responses, and what a hot-restart handover does
 * @returns the handler; every response carries `x-skiff-pid` when `opts.pid` is given
 */
export function adminHandler(
  src: AdminSource,
  opts: AdminHandlerOptions = {},
): (req: Request) => Promise<Response> {
  return async (req) => {
    const res = await answer(src, opts, req);
    if (opts.pid !== undefined) res.headers.set("x-skiff-pid", String(opts.pid));
    return res;
  };
}

async function answer(src: AdminSource, opts: AdminHandlerOptions, req: Request) {
  const url = new URL(req.url);
  const allow = ALLOWED[url.pathname];
  if (allow === undefined) return new Response("not found\n", { status: 404 });
  if (!allow.split(", ").includes(req.method)) {
    return new Response(`method not allowed: ${url.pathname} takes ${allow}\n`, {
      status: 405,
      headers: { allow },
    });
  }
  switch (url.pathname) {
    case "/ready":
      return src.ready() ? new Response("ready\n") : new Response("not ready\n", { status: 503 });
    case "/config":
      return new Response(configText(src.config()), {
        headers: { "content-type": "application/json" },
      });
    case "/config/diff":
      return src.configDiff && src.config().reload.shadow
        ? json(src.configDiff() ?? null)
        : new Response(
          "the shadow check is off: set reload.shadow: true in the config to see how a " +
            "reload would change the routing of recent requests\n",
          { status: 404 },
        );
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
    case "/reload": {
      const reload = src.hooks?.reload;
      if (!reload) {
        return new Response("this skiff cannot reload: it runs without a config file\n", {
          status: 404,
        });
      }
      const outcome = await reload();
      // 409: the running config stays, because of the state of the file or of the sidecar.
      return json(outcome, undefined, outcome.ok ? 200 : 409);
    }
    case "/drain": {
      const drain = src.hooks?.drain;
      if (!drain) {
        return new Response("this skiff cannot be drained through its admin API\n", {
          status: 404,
        });
      }
      const handover = url.searchParams.get("handover") === "1";
      if (!handover) drain("POST /drain");
      else {
        // Gossip goes before the admin port: the successor binds them in that order.
        try {
          await drain("hot restart", { handover: true });
        } finally {
          opts.onHandover?.();
        }
      }
      return json({ pid: opts.pid ?? null, draining: true }, undefined, 202);
    }
    case "/":
      return new Response(INDEX);
    default:
      return new Response("not found\n", { status: 404 });
  }
}

function json(
  value: unknown,
  replacer?: (k: string, v: unknown) => unknown,
  status = 200,
): Response {
  return new Response(JSON.stringify(value, replacer, 2) + "\n", {
    status,
    headers: { "content-type": "application/json" },
  });
}

/** The config without its secrets: the gossip cluster keys show how many, not what. */
function redacted(config: Config): unknown {
  const g = config.gossip;
  return g ? { ...config, gossip: { ...g, keys: g.keys.map(() => "(redacted)") } } : config;
}

/**
 * The config as `/config` shows it: JSON written the way the config file is (addresses as
 * `host:port`, durations as `5s`, status ranges as `"200-299"`), so that it loads as a config
 * file again; gossip keys are redacted.
 */
export function configText(config: Config): string {
  const durations = durationKeys();
  const replacer = (key: string, value: unknown): unknown => {
    if (typeof value === "number" && durations.has(key)) return formatDuration(value);
    if (key === "expected_statuses" && Array.isArray(value)) {
      // Parsed as [low, high] pairs: written back as 204 or "200-299".
      return (value as [number, number][]).map(([lo, hi]) => lo === hi ? lo : `${lo}-${hi}`);
    }
    if (
      value !== null && typeof value === "object" && "hostname" in value && "port" in value &&
      Object.keys(value).length === 2
    ) {
      return formatAddress(value as SocketAddress);
    }
    return value;
  };
  return JSON.stringify(redacted(config), replacer, 2) + "\n";
}

/**
 * The admin HTTP server on its own port. Every response carries `x-skiff-pid` (this
 * process); a successor's `POST /drain?handover=1` makes it let the port go at once.
 */
export class AdminServer {
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  #closed: Promise<void> | undefined;

  /** Binds `address` and serves `src`. @throws when the address cannot be bound */
  constructor(address: SocketAddress, src: AdminSource, log: Logger) {
    const pid = Deno.pid;
    this.#server = Deno.serve(
      {
        hostname: address.hostname,
        port: address.port,
        onListen: () => {},
        onError: (err) => {
          log.error("admin request failed", { err });
          return new Response("internal error\n", {
            status: 500,
            headers: { "x-skiff-pid": String(pid) },
          });
        },
      },
      adminHandler(src, {
        pid,
        onHandover: () => {
          log.info("admin port released to the hot-restarting successor", {
            address: formatAddress(address),
          });
          // Stops accepting now; the answer to the successor still goes out.
          void this.close();
        },
      }),
    );
  }

  /** The bound address. */
  get addr(): Deno.NetAddr {
    return this.#server.addr;
  }

  /** Stops accepting at once and resolves when requests in flight are answered. Idempotent. */
  close(): Promise<void> {
    return this.#closed ??= this.#server.shutdown();
  }
}
