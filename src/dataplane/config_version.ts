import type { Config, ListenerConfig } from "../config/schema.ts";
import type { ClusterRuntime } from "./cluster.ts";
import type { HttpHandler } from "./http/handler.ts";
import type { ListenerAuthz } from "./http/route_handler.ts";
import type { TokenBucket } from "./resilience/token_bucket.ts";

/** What one listener serves under one config version. */
export interface ListenerVersion {
  config: ListenerConfig;
  /** Routes, authorization and proxying of its HTTP requests. */
  handler: HttpHandler;
  /** Its authorization policies (the TCP path decides per connection). */
  authz: ListenerAuthz | undefined;
  /** Its rate limit (`rate_limit`): HTTP requests, or TCP connections. */
  rateLimit?: TokenBucket;
}

/**
 * One immutable config version of a data plane: the config, the clusters it routes to and
 * what each listener does with a request. Everything that uses a version holds it —
 * each HTTP request and stream from its start to its end, each TCP tunnel for its life, each
 * listener while the version is its current one — so a reload never changes what a request
 * already in flight sees. When the last holder lets go of a version that is no longer
 * current, `onUnused` runs once (the data plane then closes the clusters no other version
 * uses).
 *
 * @example
 * ```ts
 * const v = plane.current.retain(); // a request starts
 * await v.listener("ingress")!.handler.handle(req, ex);
 * v.release(); // the request ended
 * ```
 */
export class ConfigVersion {
  /** 1 for the config skiff started with, +1 per applied reload. */
  readonly id: number;
  readonly config: Config;
  readonly clusters: ReadonlyMap<string, ClusterRuntime>;
  readonly #listeners: ReadonlyMap<string, ListenerVersion>;
  #holders = 0;
  #onUnused: ((v: ConfigVersion) => void) | null;

  constructor(
    id: number,
    config: Config,
    clusters: ReadonlyMap<string, ClusterRuntime>,
    listeners: ReadonlyMap<string, ListenerVersion>,
    onUnused: (v: ConfigVersion) => void,
  ) {
    this.id = id;
    this.config = config;
    this.clusters = clusters;
    this.#listeners = listeners;
    this.#onUnused = onUnused;
  }

  /** What listener `name` serves in this version; undefined when the version has no such listener. */
  listener(name: string): ListenerVersion | undefined {
    return this.#listeners.get(name);
  }

  /** Holders now (requests, tunnels, listeners and the data plane itself). */
  get holders(): number {
    return this.#holders;
  }

  /** True once the last holder let go (the version's clusters may be closed). */
  get released(): boolean {
    return this.#onUnused === null;
  }

  /** Takes a hold; returns this version. */
  retain(): this {
    this.#holders++;
    return this;
  }

  /** Gives a hold back; the last one releases the version. */
  release(): void {
    if (--this.#holders > 0) return;
    const done = this.#onUnused;
    this.#onUnused = null;
    done?.(this);
  }
}
