import { parseConfig } from "./load.ts";
import type { Config } from "./schema.ts";

/**
 * The config skiff runs with when none is given, as YAML text. It is also the shortest
 * complete example of a config file: one HTTP listener sending everything to one cluster of
 * two local endpoints, with retries and outlier detection.
 */
export const DEFAULT_CONFIG_YAML: string =
  `# skiff's embedded default config: "skiff run" uses it when no -c FILE is given.
# It proxies HTTP from 127.0.0.1:10000 to two local upstreams on ports 10001 and 10002
# (the demo starts those). Every duration is a whole number followed by ms, s, m or h.

# The admin server: stats and health. Leave it out to run without one.
admin:
  address: 127.0.0.1:9901

# Where skiff accepts traffic. Each listener needs a unique name and address.
listeners:
  - name: ingress
    address: 127.0.0.1:10000
    protocol: http # http, tcp (plain TCP forwarding) or auto (detect HTTP, else TCP)
    routes:
      - name: all
        match:
          prefix: / # every path starts with "/", so this route takes all requests
        cluster: demo # must name one of the clusters below
        timeout: 5s # the whole request, retries included
        retry:
          retry_on: [connect-failure, reset, gateway-error]
          num_retries: 2 # up to 3 attempts in all
          per_try_timeout: 1s

# Named groups of upstream endpoints that routes send to.
clusters:
  - name: demo
    lb_policy: round_robin # or least_request, peak_ewma, ring_hash
    endpoints:
      - address: 127.0.0.1:10001
        labels:
          version: v1
      - address: 127.0.0.1:10002
        labels:
          version: v2
    # Retries in flight may not exceed budget_percent of requests in flight, but at least
    # min_retry_concurrency are always allowed, so that retries cannot amplify an outage.
    retry_budget:
      budget_percent: 20
      min_retry_concurrency: 10
    # An endpoint that keeps failing (refused connections, resets, 502-504) is taken out of
    # rotation for a while, longer each time: traffic stops waiting on a dead endpoint.
    outlier_detection:
      consecutive_gateway_failure: 3
      interval: 1s
      base_ejection_time: 5s
      max_ejection_percent: 50 # always keep half of the endpoints

# One line per request: off, stdout, or file (with path: FILE).
access_log:
  sink: off
`;

/**
 * Parses {@link DEFAULT_CONFIG_YAML}.
 *
 * @returns a fresh validated config on every call, so callers may change it freely
 * @example
 * ```ts
 * const config = defaultConfig();
 * config.listeners[0].address; // { hostname: "127.0.0.1", port: 10000 }
 * ```
 */
export function defaultConfig(): Config {
  return parseConfig(DEFAULT_CONFIG_YAML, "<default config>");
}
