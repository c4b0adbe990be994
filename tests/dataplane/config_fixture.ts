import { parseConfig, type RouteConfig } from "../../src/config/mod.ts";

/**
 * Validates `routes` (objects as they would be written in YAML) as the routes of one
 * listener, with clusters `a`, `b`, `c`, `d`, so every default is applied as in a real file.
 */
export function routesFromConfig(routes: unknown[]): RouteConfig[] {
  const config = parseConfig(
    JSON.stringify({
      listeners: [{ name: "in", address: "127.0.0.1:0", routes }],
      clusters: ["a", "b", "c", "d"].map((name) => ({ name })),
    }),
    "routes.yaml",
  );
  return config.listeners[0].routes;
}
