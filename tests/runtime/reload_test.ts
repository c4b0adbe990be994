import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import {
  freePort,
  startHttpUpstream,
  startSidecar,
  startTcpEcho,
  waitFor,
} from "../_harness/mod.ts";

const TEST_OPTS = { sanitizeOps: false, sanitizeResources: false };

/** Two clusters `a` and `b`, listener `web` routing to `route`'s cluster. */
function twoClusters(aPort: number, bPort: number, routeTo: string, extra = ""): string {
  return `
listeners:
  - name: web
    address: 127.0.0.1:0
    routes: [{ name: main, cluster: ${routeTo} }]
clusters:
  - name: a
    endpoints: [{ address: "127.0.0.1:${aPort}" }]
  - name: b
    endpoints: [{ address: "127.0.0.1:${bPort}" }]
${extra}`;
}

/** One listener `name` on `127.0.0.1:port` routing to cluster `a` at `upstream`. */
function listenerOn(name: string, port: number, upstream: number): string {
  return `
listeners:
  - name: ${name}
    address: 127.0.0.1:${port}
    routes: [{ cluster: a }]
clusters:
  - name: a
    endpoints: [{ address: "127.0.0.1:${upstream}" }]
`;
}

Deno.test("reload: a new route applies at once on the same socket", TEST_OPTS, async () => {
  await using a = startHttpUpstream("a");
  await using b = startHttpUpstream("b");
  await using s = await startSidecar(twoClusters(a.port, b.port, "a"));
  const port = s.port("web");
  assert.equal(await (await fetch(s.url("web") + "/")).text(), "a");
  const out = await s.sidecar.reload(parseConfig(twoClusters(a.port, b.port, "b"), "t.yaml"));
  assert.equal(out.ok, true, out.error ?? "");
  assert.equal(out.version, 2);
  assert.deepEqual(out.changes?.listeners.kept, ["web"]);
  assert.deepEqual(out.changes?.clusters.kept, ["a", "b"]);
  assert.equal(s.port("web"), port, "the listener kept its socket");
  assert.equal(await (await fetch(s.url("web") + "/")).text(), "b");
});

Deno.test("reload: pools to endpoints that stay are kept", TEST_OPTS, async () => {
  await using a = startHttpUpstream("a");
  await using b = startHttpUpstream("b");
  await using s = await startSidecar(twoClusters(a.port, b.port, "a"));
  assert.equal(await (await fetch(s.url("web") + "/")).text(), "a");
  // Cluster a changes its balancing policy (not how it connects), and gains a second route.
  const next = twoClusters(a.port, b.port, "a").replace(
    `  - name: a\n`,
    `  - name: a\n    lb_policy: least_request\n`,
  );
  const out = await s.sidecar.reload(parseConfig(next, "t.yaml"));
  assert.equal(out.ok, true, out.error ?? "");
  assert.deepEqual(out.changes?.clusters.changed, ["a"]);
  assert.equal(await (await fetch(s.url("web") + "/")).text(), "a");
  assert.equal(a.requests.length, 2);
  assert.equal(a.requests[1].remote, a.requests[0].remote, "the same upstream connection");
});

Deno.test("reload: a request in flight finishes on its version", TEST_OPTS, async () => {
  const gate = Promise.withResolvers<void>();
  const arrived = Promise.withResolvers<void>();
  await using a = startHttpUpstream("a", async () => {
    arrived.resolve();
    await gate.promise;
    return new Response("a, slowly");
  });
  await using b = startHttpUpstream("b");
  await using s = await startSidecar(twoClusters(a.port, b.port, "a"));
  const slow = fetch(s.url("web") + "/").then((r) => r.text());
  await arrived.promise;
  // The new version has no cluster a at all.
  const without = twoClusters(a.port, b.port, "b").replace(/ {2}- name: a\n.*\n/, "");
  const out = await s.sidecar.reload(parseConfig(without, "t.yaml"));
  assert.equal(out.ok, true, out.error ?? "");
  assert.deepEqual(out.changes?.clusters.removed, ["a"]);
  assert.equal(await (await fetch(s.url("web") + "/")).text(), "b");
  assert.equal(s.sidecar.dataPlane.current?.id, 2);
  const old = s.sidecar.dataPlane.current;
  assert.ok(old);
  gate.resolve();
  assert.equal(await slow, "a, slowly");
  // The old version was released with its last request: cluster a's pool is closed.
  await waitFor("the pool of the removed cluster closes", () => s.sidecar.dataPlane.pools === 1);
});

Deno.test("reload: a port that cannot be bound refuses the version", TEST_OPTS, async () => {
  await using a = startHttpUpstream("a");
  await using b = startHttpUpstream("b");
  await using s = await startSidecar(twoClusters(a.port, b.port, "a"));
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const next = twoClusters(a.port, b.port, "b").replace(
    "clusters:",
    `  - name: extra\n    address: 127.0.0.1:${taken.addr.port}\n    routes: [{ cluster: b }]\nclusters:`,
  );
  const out = await s.sidecar.reload(parseConfig(next, "t.yaml"));
  assert.equal(out.ok, false);
  assert.match(out.error ?? "", /in use/i);
  assert.equal(out.version, 1);
  assert.equal(await (await fetch(s.url("web") + "/")).text(), "a", "the running version stays");
  assert.equal(s.sidecar.listeners.length, 1);
});

Deno.test("reload: a removed listener stops accepting", TEST_OPTS, async () => {
  await using a = startHttpUpstream("a");
  await using b = startHttpUpstream("b");
  const two = twoClusters(a.port, b.port, "a").replace(
    "clusters:",
    `  - name: extra\n    address: 127.0.0.1:0\n    routes: [{ cluster: b }]\nclusters:`,
  );
  await using s = await startSidecar(two);
  const extra = s.url("extra");
  assert.equal(await (await fetch(extra + "/")).text(), "b");
  const out = await s.sidecar.reload(parseConfig(twoClusters(a.port, b.port, "a"), "t.yaml"));
  assert.equal(out.ok, true, out.error ?? "");
  assert.deepEqual(out.changes?.listeners.removed, ["extra"]);
  const extraPort = Number(new URL(extra).port);
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: extraPort }));
  assert.equal(await (await fetch(s.url("web") + "/")).text(), "a");
});

Deno.test(
  "reload: a listener renamed on the same address is bound once the old one let go of it",
  TEST_OPTS,
  async () => {
    // Without SO_REUSEPORT the new listener can bind the address only after the old one's
    // socket is closed, which the runtime does a turn after the old one stops accepting.
    await using a = startHttpUpstream("a");
    const port = freePort();
    const yaml = (name: string) => listenerOn(name, port, a.port);
    await using s = await startSidecar(yaml("web"));
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), "a");
    const out = await s.sidecar.reload(parseConfig(yaml("site"), "t.yaml"));
    assert.equal(out.ok, true, out.error ?? "");
    assert.deepEqual(s.sidecar.listeners.map((l) => l.name), ["site"]);
    const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: "close" } });
    assert.equal(await res.text(), "a");
  },
);

Deno.test(
  "reload: a renamed listener whose address was taken meanwhile is reported, and bound by the next reload",
  TEST_OPTS,
  async () => {
    // The address is free between the old listener's close and the new one's bind: another
    // process taking it then is simulated by a bind that fails while `taken` is set.
    await using a = startHttpUpstream("a");
    const port = freePort();
    let taken = false;
    const listen = (opts: Deno.TcpListenOptions & { transport: "tcp" }) => {
      if (taken && opts.port === port) throw new Deno.errors.AddrInUse("Address already in use");
      return Deno.listen(opts);
    };
    const yaml = (name: string) => listenerOn(name, port, a.port);
    await using s = await startSidecar(yaml("web"), { listen });
    taken = true;
    const out = await s.sidecar.reload(parseConfig(yaml("site"), "t.yaml"));
    assert.equal(out.ok, true, "the version is applied: the old listener is gone already");
    assert.deepEqual(out.changes?.listeners.failed, ["site"]);
    assert.deepEqual(out.changes?.listeners.removed, ["web"]);
    assert.deepEqual(s.sidecar.listeners.map((l) => l.name), []);
    assert.ok(
      s.logs.some((l) => l.msg === "a listener of the new config could not be bound"),
      "the failure is logged",
    );
    taken = false;
    const again = await s.sidecar.reload(parseConfig(yaml("site"), "t.yaml"));
    assert.equal(again.ok, true, again.error ?? "");
    assert.deepEqual(again.changes?.listeners.added, ["site"]);
    assert.deepEqual(again.changes?.listeners.failed, []);
    const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: "close" } });
    assert.equal(await res.text(), "a");
  },
);

Deno.test("reload: a TCP tunnel keeps the cluster it was opened to", TEST_OPTS, async () => {
  await using echo = startTcpEcho();
  await using other = startTcpEcho();
  const tcp = (port: number) => `
listeners:
  - name: t
    address: 127.0.0.1:0
    protocol: tcp
    tcp: { cluster: c${port} }
clusters:
  - name: c${port}
    endpoints: [{ address: "127.0.0.1:${port}" }]
`;
  await using s = await startSidecar(tcp(echo.port));
  using conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port("t") });
  const buf = new Uint8Array(5);
  await conn.write(new TextEncoder().encode("hello"));
  assert.equal(await conn.read(buf), 5);
  const out = await s.sidecar.reload(parseConfig(tcp(other.port), "t.yaml"));
  assert.equal(out.ok, true, out.error ?? "");
  // The open tunnel still reaches the first echo server through the removed cluster.
  await conn.write(new TextEncoder().encode("again"));
  assert.equal(await conn.read(buf), 5);
  assert.equal(new TextDecoder().decode(buf), "again");
  assert.equal(echo.accepted, 1);
  using next = await Deno.connect({ hostname: "127.0.0.1", port: s.port("t") });
  await next.write(new TextEncoder().encode("new"));
  assert.equal(await next.read(buf), 3);
  await waitFor("the new tunnel reaches the other server", () => other.accepted === 1);
});

Deno.test(
  "reload: the shadow check refuses a version that drops a route with traffic",
  TEST_OPTS,
  async () => {
    await using a = startHttpUpstream("a");
    await using b = startHttpUpstream("b");
    const withApi = (shadowRoutes: string) => `
reload: { shadow: true, shadow_requests: 10 }
listeners:
  - name: web
    address: 127.0.0.1:0
    routes:
${shadowRoutes}
clusters:
  - name: a
    endpoints: [{ address: "127.0.0.1:${a.port}" }]
  - name: b
    endpoints: [{ address: "127.0.0.1:${b.port}" }]
`;
    const api = "      - { name: api, match: { prefix: /api }, cluster: a }\n";
    const rest = "      - { name: rest, cluster: b }\n";
    await using s = await startSidecar(withApi(api + rest));
    for (let i = 0; i < 3; i++) await (await fetch(s.url("web") + "/api/x")).text();
    const out = await s.sidecar.reload(parseConfig(withApi(rest), "t.yaml"));
    assert.equal(out.ok, false);
    assert.match(out.error ?? "", /route "api"/);
    assert.equal(await (await fetch(s.url("web") + "/api/x")).text(), "a", "still routed to api");
    const report = s.sidecar.dataPlane.shadowReport;
    assert.equal(report?.ok, false);
    // Moving /api to cluster b under the same route name passes the default guard.
    const moved = "      - { name: api, match: { prefix: /api }, cluster: b }\n";
    const ok = await s.sidecar.reload(parseConfig(withApi(moved + rest), "t.yaml"));
    assert.equal(ok.ok, true, ok.error ?? "");
    assert.equal(await (await fetch(s.url("web") + "/api/x")).text(), "b");
  },
);

Deno.test("reload: sections that need a restart keep their running values", TEST_OPTS, async () => {
  await using a = startHttpUpstream("a");
  await using b = startHttpUpstream("b");
  const cfg = `admin: { address: "127.0.0.1:0" }\n` + twoClusters(a.port, b.port, "a");
  await using s = await startSidecar(cfg);
  const next = cfg.replace(`admin: { address: "127.0.0.1:0" }`, `admin: { address: "127.0.0.2:0" }`)
    .replace("cluster: a }", "cluster: b }");
  const out = await s.sidecar.reload(parseConfig(next, "t.yaml"));
  assert.equal(out.ok, true, out.error ?? "");
  assert.deepEqual(out.restartNeeded, ["admin"]);
  assert.equal(s.sidecar.config.admin?.address.hostname, "127.0.0.1");
  assert.equal(await (await fetch(s.url("web") + "/")).text(), "b");
});

Deno.test(
  "reload: an mtls cluster without a loaded identity is refused (identity waits for a restart)",
  TEST_OPTS,
  async () => {
    await using a = startHttpUpstream("a");
    await using b = startHttpUpstream("b");
    await using s = await startSidecar(twoClusters(a.port, b.port, "a"));
    const next = twoClusters(a.port, b.port, "b").replace(
      "  - name: b\n",
      "  - name: b\n    tls: { mode: mtls, expect: { trust_domain: example.org } }\n",
    ) + `identity: { dir: "/nonexistent" }\n`;
    const out = await s.sidecar.reload(parseConfig(next, "t.yaml"));
    assert.equal(out.ok, false);
    assert.match(out.error ?? "", /cluster "b" uses mtls but no identity is loaded/);
    assert.equal(await (await fetch(s.url("web") + "/")).text(), "a");
  },
);

Deno.test(
  "reload: a reload refused for a busy port leaves the shadow check recording",
  TEST_OPTS,
  async () => {
    await using a = startHttpUpstream("a");
    using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const withRoutes = (routes: string, extra = "", shadow = true) => `
reload: { shadow: ${shadow}, shadow_requests: 10 }
listeners:
  - name: web
    address: 127.0.0.1:0
    routes:
${routes}${extra}
clusters:
  - name: a
    endpoints: [{ address: "127.0.0.1:${a.port}" }]
`;
    const api = "      - { name: api, match: { prefix: /api }, cluster: a }\n";
    const rest = "      - { name: rest, cluster: a }\n";
    const busy =
      `  - name: extra\n    address: 127.0.0.1:${taken.addr.port}\n    routes: [{ cluster: a }]\n`;
    await using s = await startSidecar(withRoutes(api + rest));
    for (let i = 0; i < 3; i++) await (await fetch(s.url("web") + "/api/x")).text();
    // Refused for the port (it also turns the shadow check off, had it been applied).
    const busyOut = await s.sidecar.reload(
      parseConfig(withRoutes(api + rest, busy, false), "t.yaml"),
    );
    assert.equal(busyOut.ok, false);
    // The running version still records and guards: dropping the busy route is refused.
    const out = await s.sidecar.reload(parseConfig(withRoutes(rest), "t.yaml"));
    assert.equal(out.ok, false);
    assert.match(out.error ?? "", /route "api"/);
  },
);
