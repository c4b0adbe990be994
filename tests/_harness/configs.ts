/**
 * YAML for the most common test setup: an admin server and one HTTP listener `web`, both
 * on port 0, sending every request to cluster `app` with one endpoint on loopback.
 *
 * @param upstreamPort the port of the cluster's only endpoint
 * @param listenerExtra more keys of the listener, as YAML lines indented by four spaces
 * (e.g. `"    timeouts: { idle: 300ms }"`)
 */
export function oneRouteConfig(upstreamPort: number, listenerExtra = ""): string {
  return `
admin: { address: "127.0.0.1:0" }
listeners:
  - name: web
    address: 127.0.0.1:0
    routes: [{ cluster: app }]
${listenerExtra}
clusters:
  - name: app
    endpoints: [{ address: "127.0.0.1:${upstreamPort}" }]
`;
}
