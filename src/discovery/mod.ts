/**
 * Endpoint discovery: the `Resolver` interface every source of endpoints implements, the
 * immutable `Endpoint` and `EndpointSet` it reports, and the config-file `StaticResolver`.
 * @module
 */
export { type Endpoint, type EndpointSpec, sameEndpoint, toEndpoint } from "./endpoint.ts";
export type { EndpointSet, EndpointWatcher, Resolver } from "./resolver.ts";
export { StaticResolver } from "./static_resolver.ts";
export { GossipResolver, type MembershipView } from "./gossip_resolver.ts";
export { DeferredResolver } from "./deferred_resolver.ts";
export { memberEndpoints } from "./member_endpoints.ts";
