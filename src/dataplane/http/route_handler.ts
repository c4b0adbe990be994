import type { Logger } from "../../core/logger.ts";
import type { RouteConfig } from "../../config/schema.ts";
import type { AuthzPolicy } from "../../security/authz.ts";
import type { Exchange, ExchangeSink } from "../exchange.ts";
import { grpcStatusForFailure, isGrpc } from "./grpc.ts";
import type { HttpHandler } from "./handler.ts";
import type { HeadRing } from "./head_ring.ts";
import { localReply } from "./local_reply.ts";
import { getHeader, type ProxyRequest, type ProxyResponse } from "./message.ts";
import type { Forwarder } from "./route_policies.ts";
import type { Router } from "./router.ts";

/** A listener's authorization policies, and where their denials are counted. */
export interface ListenerAuthz {
  /** The listener's own, checked before routing. */
  policy: AuthzPolicy | undefined;
  /** Routes' own, checked once the route matched (after the listener's). */
  routes: ReadonlyMap<RouteConfig, AuthzPolicy>;
  onDenied(): void;
}

/** A path with dot segments, empty segments, percent-encoding or backslashes. */
const NOT_NORMAL_PATH = /\/\.\.?(?:\/|$)|\/\/|%|\\/;

/** The 403 (gRPC: PERMISSION_DENIED) of a denied request. */
function forbidden(req: ProxyRequest, ex: Exchange): ProxyResponse {
  const grpc = isGrpc(getHeader(req.headers, "content-type"));
  if (grpc) ex.grpcStatus = String(grpcStatusForFailure("forbidden"));
  const who = ex.peer?.uri ?? "a client without a SPIFFE ID";
  return localReply("forbidden", `${who} may not ${req.method} ${req.path}`, grpc);
}

/**
 * The HTTP handler of one listener: applies its authorization policy (403 `forbidden`),
 * matches a route (404 `no_route` when none does),
 * forwards through the proxy core, and applies the route's response header mutations.
 */
export class RouteHandler implements HttpHandler {
  readonly #router: Router;
  readonly #proxy: Forwarder;
  readonly #sink: ExchangeSink;
  readonly #log: Logger;
  readonly #authz: ListenerAuthz | undefined;
  readonly #heads: HeadRing | undefined;

  /**
   * @param authz the listener's authorization policies, when it has any
   * @param heads where the heads of routed requests are kept for the reload shadow check
   *   (only when `reload.shadow` is on)
   */
  constructor(
    router: Router,
    proxy: Forwarder,
    sink: ExchangeSink,
    log: Logger,
    authz?: ListenerAuthz,
    heads?: HeadRing,
  ) {
    this.#router = router;
    this.#proxy = proxy;
    this.#sink = sink;
    this.#log = log;
    this.#authz = authz;
    this.#heads = heads;
  }

  handle(req: ProxyRequest, ex: Exchange): Promise<ProxyResponse> {
    const authz = this.#authz;
    if (authz?.policy && !this.#allowed(req, ex, authz, authz.policy, undefined)) {
      return Promise.resolve(forbidden(req, ex));
    }
    const route = this.#router.match(req.method, req.authority, req.path, req.headers);
    this.#heads?.record(ex.listener, req.method, req.authority, req.path, req.headers, route?.name);
    if (!route) {
      ex.error = "no_route";
      // The client's request id still ties the access-log line to its request.
      ex.requestId = getHeader(req.headers, "x-request-id") ?? "";
      this.#log.warn("request failed", {
        reason: "no_route",
        listener: ex.listener,
        method: req.method,
        authority: req.authority,
        path: req.path,
        request_id: ex.requestId || undefined,
      });
      const grpc = isGrpc(getHeader(req.headers, "content-type"));
      if (grpc) ex.grpcStatus = String(grpcStatusForFailure("no_route"));
      // An unread request body is dropped by the server after the reply is sent; cancelling
      // it here would reset an HTTP/2 stream before the reply goes out.
      return Promise.resolve(
        localReply("no_route", `No route for ${req.authority}${req.path}`, grpc),
      );
    }
    ex.route = route.name;
    const routePolicy = authz?.routes.get(route.config);
    if (routePolicy && !this.#allowed(req, ex, authz!, routePolicy, route.name)) {
      return Promise.resolve(forbidden(req, ex));
    }
    return this.#proxy.forward(req, route, ex);
  }

  /** Asks a policy; a denial is counted and logged with both identities. */
  #allowed(
    req: ProxyRequest,
    ex: Exchange,
    authz: ListenerAuthz,
    policy: AuthzPolicy,
    route: string | undefined,
  ): boolean {
    const q = req.path.indexOf("?");
    const path = q < 0 ? req.path : req.path.slice(0, q);
    // Rules compare paths as written; one the app might read otherwise (dot segments, "//",
    // percent-encoding, backslashes) could slip past a prefix rule, so it is denied.
    const decision = NOT_NORMAL_PATH.test(path)
      ? { allowed: false, rule: -1 }
      : policy.decide({ peer: ex.peer?.id, method: req.method, path });
    if (decision.allowed) return true;
    ex.error = "forbidden";
    ex.requestId = getHeader(req.headers, "x-request-id") ?? "";
    authz.onDenied();
    this.#log.warn("request denied", {
      reason: "forbidden",
      listener: ex.listener,
      peer: ex.peer?.uri,
      xfcc: ex.peer?.xfcc,
      method: req.method,
      path,
      route,
      rule: decision.rule,
      request_id: ex.requestId || undefined,
    });
    return false;
  }

  finish(ex: Exchange): void {
    this.#sink.finish(ex);
  }
}
