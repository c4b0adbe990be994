import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { clusterChanges, sameSocket } from "../../src/config/diff.ts";

const config = (listener: string, clusters: string) =>
  parseConfig(
    `listeners:\n  - { name: web, ${listener}, routes: [] }\nclusters:\n${clusters}`,
    "t.yaml",
  );

Deno.test("config diff: clusters added, removed, changed and kept", () => {
  const before = config(
    "address: 127.0.0.1:8080",
    "  - { name: a, endpoints: [] }\n  - { name: b, endpoints: [] }\n  - { name: c, endpoints: [] }\n",
  );
  const after = config(
    "address: 127.0.0.1:8080",
    "  - { name: a, endpoints: [] }\n  - { name: c, lb_policy: least_request, endpoints: [] }\n  - { name: d, endpoints: [] }\n",
  );
  assert.deepEqual(clusterChanges(before, after), {
    added: ["d"],
    removed: ["b"],
    changed: ["c"],
    kept: ["a"],
  });
});

Deno.test("config diff: a listener keeps its socket only with the same address and TLS mode", () => {
  const l = (text: string) => config(text, "  - { name: a, endpoints: [] }\n").listeners[0];
  const base = l("address: 127.0.0.1:8080");
  assert.equal(sameSocket(base, l("address: 127.0.0.1:8080, protocol: auto")), true);
  assert.equal(sameSocket(base, l("address: 127.0.0.1:8081")), false);
  assert.equal(sameSocket(base, l("address: 127.0.0.2:8080")), false);
  const mtls = { ...base, tls: { ...base.tls, mode: "mtls" as const } };
  assert.equal(sameSocket(base, mtls), false);
});
