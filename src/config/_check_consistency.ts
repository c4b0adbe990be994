import type { ClusterConfig, Config, ListenerConfig } from "./schema.ts";
import type { PathIssue } from "./_path.ts";

/**
 * The checks that span more than one field and need a schema-valid config (with its defaults
 * applied): each listener's protocol fits what it is given to do, traffic splits can be
 * served, discovery and TLS settings go together. Names, addresses and references to
 * clusters are checked apart, on any document (see `checkReferences`).
 *
 * @returns every problem found, in no particular order; empty when the config is coherent
 */
export function checkConsistency(config: Config): PathIssue[] {
  return [
    ...config.listeners.flatMap((l, i) => listenerShape(l, i)),
    ...config.listeners.flatMap((l, i) => trafficSplit(config, l, i)),
    ...config.clusters.flatMap((c, i) => discoveryShape(config, c, i)),
    ...config.clusters.flatMap((c, i) => upstreamTls(config, c, i)),
    ...config.listeners.flatMap((l, i) => listenerTls(config, l, i)),
  ];
}

function listenerShape(l: ListenerConfig, i: number): PathIssue[] {
  const issues: PathIssue[] = [];
  const at = (...rest: (string | number)[]) => ["listeners", i, ...rest];
  if (l.protocol === "tcp" && l.tcp === undefined) {
    issues.push({
      path: at("protocol"),
      message: `listener "${l.name}" has protocol "tcp" but no "tcp" section`,
      fix: "add tcp: with the cluster to forward to, e.g. tcp: {cluster: NAME}",
    });
  }
  if (l.protocol === "tcp" && l.routes.length > 0) {
    issues.push({
      path: at("routes"),
      message: `listener "${l.name}" has protocol "tcp", so its routes would never be used`,
      fix: "remove the routes, or set protocol: auto to serve HTTP and forward the rest",
    });
  }
  if (l.protocol === "http" && l.tcp !== undefined) {
    issues.push({
      path: at("tcp"),
      message: `listener "${l.name}" has a "tcp" section but its protocol is "http"`,
      fix: "set protocol: tcp, or protocol: auto to serve HTTP and forward the rest over tcp",
    });
  }
  l.routes.forEach((r, k) => {
    if (r.prefix_rewrite !== undefined && r.match.prefix === undefined) {
      issues.push({
        path: at("routes", k, "prefix_rewrite"),
        message: `prefix_rewrite ${
          JSON.stringify(r.prefix_rewrite)
        } has no match.prefix to replace`,
        fix: "add match.prefix to the route, or remove prefix_rewrite",
      });
    }
    if (r.weighted_clusters && r.weighted_clusters.every((w) => w.weight === 0)) {
      issues.push({
        path: at("routes", k, "weighted_clusters"),
        message: "the weights of weighted_clusters add up to 0, so no cluster would get traffic",
        fix: "give at least one cluster a weight above 0",
      });
    }
  });
  return issues;
}

/**
 * A route's split: `sticky` needs branches to keep, and a subset of a cluster whose endpoints
 * are all listed in the config must match at least one of them.
 */
function trafficSplit(config: Config, l: ListenerConfig, i: number): PathIssue[] {
  const issues: PathIssue[] = [];
  l.routes.forEach((r, k) => {
    const at = ["listeners", i, "routes", k];
    if (r.sticky !== undefined && r.weighted_clusters === undefined) {
      issues.push({
        path: [...at, "sticky"],
        message: "sticky keeps users on a branch of weighted_clusters, but the route has none",
        fix: "split traffic with weighted_clusters, or remove sticky",
      });
    }
    r.weighted_clusters?.forEach((w, n) => {
      if (w.subset === undefined) return;
      const c = config.clusters.find((c) => c.name === w.cluster);
      if (c === undefined || c.discovery.type !== "static" || c.endpoints.length === 0) return;
      const subset = Object.entries(w.subset);
      if (c.endpoints.some((e) => subset.every(([name, v]) => e.labels[name] === v))) return;
      issues.push({
        path: [...at, "weighted_clusters", n, "subset"],
        message: `subset ${
          subset.map(([name, v]) => `${name}=${v}`).join(",")
        } matches none of the endpoints of cluster "${c.name}", so its traffic would fail`,
        fix: "give the endpoints meant for it these labels, or correct the subset",
      });
    });
  });
  return issues;
}

function discoveryShape(config: Config, c: ClusterConfig, i: number): PathIssue[] {
  const at = (...rest: string[]) => ["clusters", i, ...rest];
  const d = c.discovery;
  if (d.type === "static") {
    return d.service === undefined ? [] : [{
      path: at("discovery", "service"),
      message: `cluster "${c.name}" names a discovery service but its discovery type is static`,
      fix: "set discovery.type: gossip to discover the service, or remove service",
    }];
  }
  const issues: PathIssue[] = [];
  if (d.service === undefined) {
    issues.push({
      path: at("discovery"),
      message: `cluster "${c.name}" discovers by gossip but names no service`,
      fix: "add service: with the name members announce in gossip.services",
    });
  }
  if (c.endpoints.length > 0) {
    issues.push({
      path: at("endpoints"),
      message: `cluster "${c.name}" lists endpoints but discovers them by gossip`,
      fix: "remove the endpoints, or set discovery.type: static to use them",
    });
  }
  if (config.gossip === undefined) {
    issues.push({
      path: at("discovery", "type"),
      message: `cluster "${c.name}" discovers by gossip but the config has no gossip section`,
      fix: "add a gossip: section (bind address and seeds) so skiff joins the membership",
    });
  }
  return issues;
}

function upstreamTls(config: Config, c: ClusterConfig, i: number): PathIssue[] {
  if (c.tls.mode !== "mtls") return [];
  const issues: PathIssue[] = [];
  if (!config.identity) {
    issues.push({
      path: ["clusters", i, "tls", "mode"],
      message: `cluster "${c.name}" uses mtls but the config has no identity`,
      fix: "add identity: { dir: DIR } with this workload's svid.pem, svid_key.pem, bundle.pem",
    });
  }
  if (c.tls.expect === undefined) {
    c.endpoints.forEach((e, k) => {
      if (e.spiffe_id !== undefined) return;
      issues.push({
        path: ["clusters", i, "endpoints", k],
        message: `endpoint of mtls cluster "${c.name}" names no SPIFFE ID to expect`,
        fix: "add spiffe_id: to the endpoint, or tls.expect to the cluster",
      });
    });
  }
  if (c.health_check?.type === "http") {
    issues.push({
      path: ["clusters", i, "health_check", "type"],
      message: `cluster "${c.name}" uses mtls, whose endpoints refuse a cleartext HTTP check`,
      fix: "use type: tcp",
    });
  }
  return issues;
}

function listenerTls(config: Config, l: ListenerConfig, i: number): PathIssue[] {
  const issues: PathIssue[] = [];
  const mtls = l.tls.mode === "mtls";
  if (mtls && !config.identity) {
    issues.push({
      path: ["listeners", i, "tls", "mode"],
      message: `listener "${l.name}" uses mtls but the config has no identity`,
      fix: "add identity: { dir: DIR } with this workload's svid.pem, svid_key.pem, bundle.pem",
    });
  }
  if (mtls && l.protocol === "auto") {
    issues.push({
      path: ["listeners", i, "protocol"],
      message: `listener "${l.name}" uses mtls with protocol "auto"; over TLS, ALPN decides`,
      fix: "set protocol: http (HTTP/2 or HTTP/1.1 by ALPN) or protocol: tcp",
    });
  }
  const policies = [
    { rules: l.authz?.rules ?? [], at: ["listeners", i, "authz"] },
    ...l.routes.map((r, n) => ({
      rules: r.authz?.rules ?? [],
      at: ["listeners", i, "routes", n, "authz"],
    })),
  ];
  for (const { rules, at } of policies) {
    rules.forEach((r, k) => {
      if (r.from !== undefined && !mtls) {
        issues.push({
          path: [...at, "rules", k, "from"],
          message: `rule names peers by SPIFFE ID, but listener "${l.name}" does not use mtls, ` +
            "so no peer has one",
          fix: "set tls.mode: mtls on the listener, or remove from",
        });
      }
    });
  }
  l.authz?.rules.forEach((r, k) => {
    if (l.protocol === "tcp" && (r.methods !== undefined || r.paths !== undefined)) {
      issues.push({
        path: ["listeners", i, "authz", "rules", k],
        message: `listener "${l.name}" forwards TCP, which has no methods or paths`,
        fix: "keep only from (and action) in its rules",
      });
    }
  });
  return issues;
}
