// End-to-end lifecycle under load, with skiff as a real child process: 20 SIGHUP reloads
// under a keep-alive load loop, and SIGTERM with requests in flight.
import assert from "node:assert/strict";
import { freePort, spawnSkiff, startHttpUpstream, waitFor, within } from "../_harness/mod.ts";
import { OPTS, reloaded, startLoad, withTempDir } from "./_lifecycle.ts";

Deno.test(
  "lifecycle: 20 SIGHUP reloads of routes and clusters under load lose no request",
  OPTS,
  async () => {
    await using a = startHttpUpstream("A");
    await using b = startHttpUpstream("B");
    await using c = startHttpUpstream("C");
    const admin = freePort();
    const web = freePort();
    // Version n: even n routes to cluster blue (A); odd n adds cluster green — endpoint B
    // when n % 4 == 1, C when n % 4 == 3 — and routes to it. Every version names its route
    // anew and adds its own x-config response header. So each reload changes the route, adds
    // or removes a cluster, and every second one moves green's endpoint.
    const expected = (n: number) => n % 2 === 0 ? "A" : n % 4 === 1 ? "B" : "C";
    const config = (n: number) => {
      const green = n % 2 === 0
        ? ""
        : `  - name: green\n    endpoints: [{ address: "127.0.0.1:${
          n % 4 === 1 ? b.port : c.port
        }" }]\n`;
      return `admin: { address: "127.0.0.1:${admin}" }
reload: { watch: false }
listeners:
  - name: web
    address: 127.0.0.1:${web}
    routes:
      - name: route-v${n}
        cluster: ${n % 2 === 0 ? "blue" : "green"}
        response_headers_to_add: [{ name: x-config, value: "v${n}" }]
clusters:
  - name: blue
    endpoints: [{ address: "127.0.0.1:${a.port}" }]
${green}`;
    };
    const url = `http://127.0.0.1:${web}/load`;
    const RELOADS = 20;
    const PER_VERSION = 100;
    await withTempDir(async (dir) => {
      const file = `${dir}/skiff.yaml`;
      await Deno.writeTextFile(file, config(0));
      await using skiff = await spawnSkiff(
        ["run", "-c", file],
        `http://127.0.0.1:${admin}/ready`,
      );
      const load = startLoad(url, {
        clients: 8,
        maxPerClient: 20_000,
        deadlineMs: 120_000,
        // The route's header and the upstream that answered must come from one version.
        check: (res, body) => {
          const v = Number(res.headers.get("x-config")?.slice(1));
          if (!Number.isInteger(v)) return `no x-config header (body ${body})`;
          return body === expected(v) ? undefined : `v${v} answered by ${body}`;
        },
      });
      try {
        const seen = (n: number) => (load.stats.byVersion.get(`v${n}`) ?? 0) >= PER_VERSION;
        await waitFor("load on the first version", () => seen(0), 20_000);
        for (let n = 1; n <= RELOADS; n++) {
          await Deno.writeTextFile(file, config(n));
          skiff.kill("SIGHUP");
          await reloaded(skiff, n + 1); // skiff numbers its start-up config 1
          await waitFor(`version ${n} answering a new request`, async () => {
            const res = await fetch(url);
            const body = await res.text();
            return res.headers.get("x-config") === `v${n}` && body === expected(n);
          });
          await waitFor(`the load loop reaching version ${n}`, () => seen(n), 20_000);
        }
      } finally {
        await load.stop();
      }
      const s = load.stats;
      assert.equal(s.failed, 0, `${s.failed} of ${s.sent} failed: ${s.failures.join("; ")}`);
      assert.equal(s.ok, s.sent);
      for (let n = 0; n <= RELOADS; n++) {
        assert.ok((s.byVersion.get(`v${n}`) ?? 0) > 0, `no request went to version ${n}`);
      }
      assert.ok(a.requests.length > 0 && b.requests.length > 0 && c.requests.length > 0);
      assert.equal(await skiff.stop(), 0, skiff.stderr());
    });
  },
);

/** A gRPC Echo server whose server streams stay open until the test ends them. */
Deno.test(
  "lifecycle: SIGTERM under load lets every request in flight finish with 200, then exits 0",
  OPTS,
  async () => {
    const release = Promise.withResolvers<void>();
    const HELD = 24;
    // /head/N answers only once released; /body/N sends its headers and a first chunk at once
    // and the rest once released.
    await using up = startHttpUpstream("up", (req) => {
      const path = new URL(req.url).pathname;
      if (path.startsWith("/head/")) {
        return release.promise.then(() => new Response(`held ${path}`));
      }
      const enc = new TextEncoder();
      return new Response(
        new ReadableStream({
          async start(ctl) {
            ctl.enqueue(enc.encode(`first ${path};`));
            await release.promise;
            ctl.enqueue(enc.encode("rest"));
            ctl.close();
          },
        }),
      );
    });
    const admin = freePort();
    const web = freePort();
    await withTempDir(async (dir) => {
      const file = `${dir}/skiff.yaml`;
      await Deno.writeTextFile(
        file,
        `admin: { address: "127.0.0.1:${admin}" }
drain: { timeout: 60s }
listeners:
  - name: web
    address: 127.0.0.1:${web}
    routes: [{ cluster: up }]
clusters:
  - name: up
    endpoints: [{ address: "127.0.0.1:${up.port}" }]
`,
      );
      await using skiff = await spawnSkiff(["run", "-c", file], `http://127.0.0.1:${admin}/ready`);
      const clients = Array.from({ length: HELD }, () => Deno.createHttpClient({}));
      try {
        const inFlight = clients.map(async (client, i) => {
          const path = i % 2 === 0 ? `/head/${i}` : `/body/${i}`;
          const res = await fetch(`http://127.0.0.1:${web}${path}`, { client });
          return { path, status: res.status, body: res.text() };
        });
        await waitFor("every request at the upstream", () => up.requests.length === HELD, 20_000);
        // The streamed ones have their headers too.
        const started = await within(
          "the streamed responses' headers",
          Promise.all(inFlight.filter((_, i) => i % 2 === 1)),
        );
        assert.ok(started.every((r) => r.status === 200));

        skiff.kill("SIGTERM");
        await skiff.waitForLog("draining");
        await waitFor("the listener to refuse connections", async () => {
          try {
            (await Deno.connect({ hostname: "127.0.0.1", port: web })).close();
            return false;
          } catch {
            return true;
          }
        }, 20_000);
        release.resolve();
        const done = await within("the requests in flight", Promise.all(inFlight));
        for (const r of done) {
          assert.equal(r.status, 200, r.path);
          const body = await within(`the body of ${r.path}`, r.body);
          assert.equal(
            body,
            r.path.startsWith("/head/") ? `held ${r.path}` : `first ${r.path};rest`,
          );
        }
        assert.equal(await within("skiff to exit", skiff.wait()), 0, skiff.stderr());
        await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: web }));
      } finally {
        release.resolve();
        for (const c of clients) c.close();
      }
    });
  },
);

// --- hot restart inside a network namespace -------------------------------------------------

/** Why the network-namespace test cannot run here, or undefined when it can. */
