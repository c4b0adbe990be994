import assert from "node:assert/strict";
import { DEFAULT_CONFIG_YAML, loadConfigFile, parseConfig } from "../../src/config/mod.ts";

const EXAMPLES = new URL("../../deploy/examples/", import.meta.url);
const GOOD = new URL("./testdata/good/", import.meta.url);

function yamlFiles(dir: URL): URL[] {
  return [...Deno.readDirSync(dir)]
    .filter((e) => e.isFile && e.name.endsWith(".yaml"))
    .map((e) => new URL(e.name, dir))
    .sort((a, b) => a.pathname.localeCompare(b.pathname));
}

for (const url of [...yamlFiles(EXAMPLES), ...yamlFiles(GOOD)]) {
  const name = url.pathname.slice(new URL("../../", import.meta.url).pathname.length);
  Deno.test(`${name} validates`, async () => {
    await loadConfigFile(url.pathname);
  });
}

Deno.test("deploy/examples/full.yaml shows every feature", async () => {
  const config = await loadConfigFile(new URL("full.yaml", EXAMPLES).pathname);
  const protocols = new Set(config.listeners.map((l) => l.protocol));
  assert.deepEqual([...protocols].sort(), ["auto", "http", "tcp"]);
  const routes = config.listeners.flatMap((l) => l.routes);
  assert.ok(routes.some((r) => r.match.headers.length > 0), "header matches");
  assert.ok(routes.some((r) => r.weighted_clusters), "weighted clusters");
  assert.ok(routes.some((r) => r.retry), "retries");
  assert.ok(routes.some((r) => r.prefix_rewrite), "prefix_rewrite");
  assert.ok(routes.some((r) => r.hash_header), "hash_header");
  const policies = new Set(config.clusters.map((c) => c.lb_policy));
  assert.deepEqual([...policies].sort(), [
    "least_request",
    "peak_ewma",
    "ring_hash",
    "round_robin",
  ]);
  assert.ok(config.admin, "admin");
  assert.equal(config.access_log.sink, "file");
});

Deno.test("the embedded default config validates", () => {
  parseConfig(DEFAULT_CONFIG_YAML, "<default config>");
});
