import assert from "node:assert/strict";
import { DEFAULT_CONFIG_YAML, defaultConfig } from "../../src/config/mod.ts";

Deno.test("defaultConfig is the documented demo setup", () => {
  const config = defaultConfig();
  assert.deepEqual(config.admin, { address: { hostname: "127.0.0.1", port: 9901 } });
  assert.equal(config.access_log.sink, "off");

  assert.equal(config.listeners.length, 1);
  const [ingress] = config.listeners;
  assert.equal(ingress.name, "ingress");
  assert.deepEqual(ingress.address, { hostname: "127.0.0.1", port: 10000 });
  assert.equal(ingress.protocol, "http");
  assert.equal(ingress.routes.length, 1);
  const [all] = ingress.routes;
  assert.equal(all.name, "all");
  assert.equal(all.match.prefix, "/");
  assert.equal(all.cluster, "demo");
  assert.equal(all.timeout, 5_000);
  assert.deepEqual(all.retry?.retry_on, ["connect-failure", "reset", "gateway-error"]);
  assert.equal(all.retry?.num_retries, 2);
  assert.equal(all.retry?.per_try_timeout, 1_000);

  assert.equal(config.clusters.length, 1);
  const [demo] = config.clusters;
  assert.equal(demo.name, "demo");
  assert.equal(demo.lb_policy, "round_robin");
  assert.deepEqual(
    demo.endpoints.map((e) => [e.address, e.labels]),
    [
      [{ hostname: "127.0.0.1", port: 10001 }, { version: "v1" }],
      [{ hostname: "127.0.0.1", port: 10002 }, { version: "v2" }],
    ],
  );
});

Deno.test("defaultConfig returns a fresh copy each time", () => {
  const a = defaultConfig();
  a.listeners[0].name = "changed";
  assert.equal(defaultConfig().listeners[0].name, "ingress");
});

Deno.test("DEFAULT_CONFIG_YAML explains itself with comments", () => {
  const comments = DEFAULT_CONFIG_YAML.split("\n").filter((l) => l.includes("#"));
  assert.ok(comments.length >= 8, `only ${comments.length} commented lines`);
});
