// The behaviour every `Resolver` must show. Each implementation's test file calls
// `resolverConformance` with a factory; see static_resolver_test.ts.
import assert from "node:assert/strict";
import type { EndpointSet, EndpointSpec, Resolver } from "../../src/discovery/mod.ts";

/** A resolver under test plus a way to change what its source reports. */
export interface ResolverHarness {
  resolver: Resolver;
  /**
   * Makes the resolver's source report `endpoints` (as config reload, gossip or DNS
   * would). Settles once an open resolver has notified its watchers of the change.
   */
  change(endpoints: readonly EndpointSpec[]): void | Promise<void>;
}

/** Builds a fresh resolver whose source initially reports `initial`. */
export type ResolverFactory = (
  initial: readonly EndpointSpec[],
) => ResolverHarness | Promise<ResolverHarness>;

const A: EndpointSpec = { address: { hostname: "10.0.0.1", port: 8080 }, weight: 1 };
const B: EndpointSpec = {
  address: { hostname: "10.0.0.2", port: 8080 },
  weight: 3,
  labels: { zone: "b" },
};
const C: EndpointSpec = { address: { hostname: "::1", port: 9000 }, weight: 2 };

/** The set as comparable plain data, in key order. */
function summary(set: EndpointSet): { key: string; weight: number; labels: object }[] {
  return set.endpoints
    .map((ep) => ({ key: ep.key, weight: ep.weight, labels: { ...ep.labels } }))
    .sort((x, y) => x.key.localeCompare(y.key));
}

/** Registers the resolver conformance tests for one implementation. */
export function resolverConformance(name: string, factory: ResolverFactory): void {
  const test = (what: string, fn: () => Promise<void>) =>
    Deno.test(`${name} conformance: ${what}`, fn);

  test("reports the initial endpoints", async () => {
    const { resolver } = await factory([A, B]);
    const set = resolver.current();
    assert.ok(Number.isFinite(set.version));
    assert.deepEqual(summary(set), [
      { key: "10.0.0.1:8080", weight: 1, labels: {} },
      { key: "10.0.0.2:8080", weight: 3, labels: { zone: "b" } },
    ]);
    assert.deepEqual(set.endpoints.find((e) => e.key === "10.0.0.2:8080")?.address, {
      hostname: "10.0.0.2",
      port: 8080,
    });
    resolver.close();
  });

  test("reports an empty initial list as an empty set", async () => {
    const { resolver } = await factory([]);
    assert.deepEqual(resolver.current().endpoints, []);
    resolver.close();
  });

  test("keys IPv6 endpoints in brackets", async () => {
    const { resolver } = await factory([C]);
    assert.deepEqual(resolver.current().endpoints.map((e) => e.key), ["[::1]:9000"]);
    resolver.close();
  });

  test("notifies watchers of each change with a growing version", async () => {
    const { resolver, change } = await factory([A]);
    const v0 = resolver.current().version;
    const seen: EndpointSet[] = [];
    resolver.watch((set) => seen.push(set));
    assert.equal(seen.length, 0, "watch must not replay the current set");

    await change([A, B]);
    assert.equal(seen.length, 1);
    assert.ok(seen[0].version > v0, `version ${seen[0].version} should exceed ${v0}`);
    assert.deepEqual(summary(seen[0]), summary(resolver.current()));
    assert.deepEqual(summary(seen[0]).map((e) => e.key), ["10.0.0.1:8080", "10.0.0.2:8080"]);

    await change([B, { ...A, weight: 5 }]);
    assert.equal(seen.length, 2);
    assert.ok(seen[1].version > seen[0].version);
    assert.equal(seen[1].endpoints.find((e) => e.key === "10.0.0.1:8080")?.weight, 5);

    await change([]);
    assert.equal(seen.length, 3);
    assert.ok(seen[2].version > seen[1].version);
    assert.deepEqual(seen[2].endpoints, []);
    assert.equal(resolver.current(), seen[2]);
    resolver.close();
  });

  test("notifies every watcher, once each", async () => {
    const { resolver, change } = await factory([A]);
    const calls: string[] = [];
    const fn = () => calls.push("shared");
    resolver.watch(fn);
    resolver.watch(fn);
    resolver.watch(() => calls.push("other"));
    await change([B]);
    assert.deepEqual(calls.sort(), ["other", "shared", "shared"]);
    resolver.close();
  });

  test("unsubscribing stops notifications for that watcher only", async () => {
    const { resolver, change } = await factory([A]);
    let stopped = 0;
    let kept = 0;
    const stop = resolver.watch(() => stopped++);
    resolver.watch(() => kept++);
    await change([A, B]);
    stop();
    stop(); // idempotent
    await change([B]);
    await change([A]);
    assert.equal(stopped, 1);
    assert.equal(kept, 3);
    resolver.close();
  });

  test("a watcher may unsubscribe itself while being notified", async () => {
    const { resolver, change } = await factory([A]);
    let first = 0;
    let second = 0;
    const stop = resolver.watch(() => {
      first++;
      stop();
    });
    resolver.watch(() => second++);
    await change([B]);
    await change([A]);
    assert.equal(first, 1);
    assert.equal(second, 2);
    resolver.close();
  });

  test("close stops notifications and keeps the last set", async () => {
    const { resolver, change } = await factory([A]);
    let calls = 0;
    resolver.watch(() => calls++);
    await change([A, B]);
    const last = resolver.current();
    resolver.close();
    resolver.close(); // idempotent
    await change([C]);
    assert.equal(calls, 1);
    assert.deepEqual(summary(resolver.current()), summary(last));

    let late = 0;
    const stop = resolver.watch(() => late++);
    await change([A]);
    stop();
    assert.equal(late, 0);
  });
}
