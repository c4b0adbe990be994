import type { Config, ReloadGuardName } from "../config/mod.ts";
import type { RecordedHead } from "./http/head_ring.ts";
import { type CompiledRoute, Router } from "./http/router.ts";

/** Where a request goes in one config version: a route and the set of clusters it can pick. */
export interface ShadowTarget {
  /** The route's name (`route_<index>` when unnamed), `null` when no route matches (404). */
  route: string | null;
  /** Every cluster the route can send to, sorted; weights are left out. Empty for no route. */
  clusters: string[];
}

/**
 * How a group of requests changes: `rerouted` from a route to another route or cluster set,
 * `lost` from a route to none, `gained` from a 404 to a route.
 */
export type ShadowChangeKind = "rerouted" | "lost" | "gained";

/** The recorded requests of one listener that move from one target to the same other one. */
export interface ShadowChange {
  listener: string;
  kind: ShadowChangeKind;
  before: ShadowTarget;
  after: ShadowTarget;
  /** How many recorded requests move this way. */
  requests: number;
  /** The oldest of them. */
  example: { method: string; authority: string; path: string };
}

/** A route of the running version that took recorded requests and is absent from the new one. */
export interface RemovedRoute {
  listener: string;
  route: string;
  /** How many recorded requests it takes in the running version. */
  requests: number;
  /** True when the whole listener is absent from the new version. */
  listener_removed: boolean;
}

/** A guard of `reload.guards` that the new version violates, said in one sentence. */
export interface ShadowViolation {
  guard: ReloadGuardName;
  message: string;
}

/**
 * What the shadow check found: plain JSON, served as is at `GET /config/diff`. Counts are of
 * recorded requests; `changes` and `removed_routes` list the largest first.
 */
export interface ShadowReport {
  /** How many recorded requests were replayed. */
  replayed: number;
  /** Requests that would go to another route or cluster set (not counting `lost`). */
  rerouted: number;
  /** Requests that would match no route any more. */
  lost: number;
  /** Requests answered 404 today that would find a route. */
  gained: number;
  /**
   * Requests whose recorded route is not the one the running version gives them today
   * (recorded under an earlier version); they are compared from today's route.
   */
  stale: number;
  changes: ShadowChange[];
  removed_routes: RemovedRoute[];
  /** One entry per guard violated; empty when the version may be activated. */
  violations: ShadowViolation[];
  /** True when no guard is violated. */
  ok: boolean;
}

/** The parts of a config the shadow check reads. */
export type ShadowConfig = Pick<Config, "listeners">;

/**
 * Replays recorded request heads through the routes of the running version (`oldConfig`) and
 * of the new one (`newConfig`), listener by listener, and reports what would change.
 *
 * Both sides are replays, so the comparison is deterministic: the recorded route name is
 * what really happened, but it may come from an earlier version (the ring outlives reloads),
 * so it only feeds the `stale` count; "before" is what the running version does with the
 * request today. A route is compared by name and by the SET of clusters it can send to, not
 * by a weighted pick: changing weights is not a change, adding or switching a cluster is.
 * Routes are matched across versions by name, and an unnamed route is named by its index
 * (`route_0`, …), so inserting a route before unnamed ones renames them: name your routes to
 * get a meaningful diff. A listener absent from the new version routes nothing.
 *
 * Guards: `route_removed` is violated when a route that takes recorded requests today is
 * absent from the new version (its listener included); `no_route` when a recorded request
 * that has a route today would match none; `rerouted` when a recorded request that has a
 * route today would go to another route or cluster set, or to none. A 404 that would find a
 * route violates nothing. With no recorded request, every guard holds.
 *
 * @param heads the recorded heads, as {@linkcode HeadRing.heads} returns them
 * @param guards the guards to check (`reload.guards`)
 * @returns the report; it is not thrown, the caller decides to refuse when `ok` is false
 *
 * @example
 * ```ts
 * const report = shadowCheck(ring.heads(), running, candidate, config.reload.guards);
 * log.info(shadowSummary(report));
 * if (!report.ok) throw new Error(report.violations.map((v) => v.message).join("; "));
 * ```
 */
export function shadowCheck(
  heads: readonly RecordedHead[],
  oldConfig: ShadowConfig,
  newConfig: ShadowConfig,
  guards: readonly ReloadGuardName[],
): ShadowReport {
  const before = new Version(oldConfig);
  const after = new Version(newConfig);
  const groups = new Map<string, ShadowChange>();
  /** Requests per route of the running version, by listener then route name. */
  const traffic = new Map<string, Map<string, number>>();
  let rerouted = 0, lost = 0, gained = 0, stale = 0;

  for (const h of heads) {
    const from = before.route(h);
    const to = after.route(h);
    if (from?.name !== h.route) stale++;
    if (from !== undefined) {
      const perRoute = traffic.get(h.listener) ?? new Map<string, number>();
      traffic.set(h.listener, perRoute.set(from.name, (perRoute.get(from.name) ?? 0) + 1));
    }
    const fromT = before.target(from);
    const toT = after.target(to);
    if (fromT.route === toT.route && fromT.key === toT.key) continue;
    const kind: ShadowChangeKind = from === undefined
      ? "gained"
      : to === undefined
      ? "lost"
      : "rerouted";
    if (kind === "gained") gained++;
    else if (kind === "lost") lost++;
    else rerouted++;
    const key = `${h.listener}\n${fromT.route}\n${fromT.key}\n${toT.route}\n${toT.key}`;
    const group = groups.get(key);
    if (group) group.requests++;
    else {
      groups.set(key, {
        listener: h.listener,
        kind,
        before: { route: fromT.route, clusters: [...fromT.clusters] },
        after: { route: toT.route, clusters: [...toT.clusters] },
        requests: 1,
        example: { method: h.method, authority: h.authority, path: h.path },
      });
    }
  }

  const removed: RemovedRoute[] = [];
  for (const [listener, perRoute] of traffic) {
    const names = after.routeNames(listener);
    for (const [route, requests] of perRoute) {
      if (names?.has(route)) continue;
      removed.push({ listener, route, requests, listener_removed: names === undefined });
    }
  }
  const changes = [...groups.values()].sort((a, b) => b.requests - a.requests);
  removed.sort((a, b) => b.requests - a.requests);

  const violations: ShadowViolation[] = [];
  const of = `of the last ${heads.length} requests`;
  for (const guard of new Set(guards)) {
    if (guard === "route_removed" && removed.length > 0) {
      const what = removed.map((r) =>
        `route "${r.route}" on listener "${r.listener}" carried ${r.requests} ${of} and is gone` +
        (r.listener_removed ? " with its listener" : "")
      );
      violations.push({ guard, message: what.join("; ") });
    } else if (guard === "no_route" && lost > 0) {
      const c = changes.find((c) => c.kind === "lost")!;
      violations.push({ guard, message: `${lost} ${of} would match no route, e.g. ${example(c)}` });
    } else if (guard === "rerouted" && rerouted + lost > 0) {
      const c = changes.find((c) => c.kind !== "gained")!;
      violations.push({
        guard,
        message: `${rerouted + lost} ${of} would go to another route or cluster, or to none, ` +
          `e.g. ${example(c)}`,
      });
    }
  }
  return {
    replayed: heads.length,
    rerouted,
    lost,
    gained,
    stale,
    changes,
    removed_routes: removed,
    violations,
    ok: violations.length === 0,
  };
}

/**
 * The report in one log line.
 *
 * @example
 * ```ts
 * shadowSummary(report);
 * // "shadow check: 1000 requests replayed, 3 would change route or cluster, 0 would lose
 * //  their route, 0 would find one; guards ok"
 * ```
 */
export function shadowSummary(report: ShadowReport): string {
  const counts = `shadow check: ${report.replayed} requests replayed, ` +
    `${report.rerouted} would change route or cluster, ${report.lost} would lose their route, ` +
    `${report.gained} would find one`;
  if (report.ok) return `${counts}; guards ok`;
  return `${counts}; guards violated: ` +
    report.violations.map((v) => `${v.guard} (${v.message})`).join(", ");
}

/** `GET api.local/v1/x on listener "in": route "a" (c1) → no route`. */
function example(c: ShadowChange): string {
  const e = c.example;
  return `${e.method} ${e.authority}${e.path} on listener "${c.listener}": ` +
    `${describe(c.before)} → ${describe(c.after)}`;
}

function describe(t: ShadowTarget): string {
  return t.route === null ? "no route" : `route "${t.route}" (${t.clusters.join(", ")})`;
}

/** A target with its cluster set joined into a key, for comparing. */
interface Target {
  route: string | null;
  clusters: readonly string[];
  key: string;
}

const NO_ROUTE: Target = { route: null, clusters: [], key: "" };

/** The routers of one config version, with each route's cluster set worked out once. */
class Version {
  readonly #routers = new Map<string, Router>();
  readonly #targets = new Map<CompiledRoute, Target>();

  constructor(config: ShadowConfig) {
    for (const l of config.listeners) {
      const router = new Router(l.routes);
      this.#routers.set(l.name, router);
      for (const r of router.routes) {
        const clusters = [...new Set(r.clusters)].sort();
        this.#targets.set(r, { route: r.name, clusters, key: clusters.join("\n") });
      }
    }
  }

  /** The route taking `head`; `undefined` when none does or the listener is absent. */
  route(head: RecordedHead): CompiledRoute | undefined {
    // Router.match only reads the header list; the cast drops `readonly` for its signature.
    return this.#routers.get(head.listener)?.match(
      head.method,
      head.authority,
      head.path,
      head.headers as string[],
    );
  }

  target(route: CompiledRoute | undefined): Target {
    return route === undefined ? NO_ROUTE : this.#targets.get(route)!;
  }

  /** The route names of `listener`, `undefined` when the listener is absent. */
  routeNames(listener: string): Set<string> | undefined {
    const router = this.#routers.get(listener);
    return router && new Set(router.routes.map((r) => r.name));
  }
}
