// End-to-end: skiff's lifecycle as users drive it from the command line — signals, an app run
// beside skiff (`skiff run -- app`), reloads of the config file and a hot restart — with
// real child processes on loopback.
import assert from "node:assert/strict";
import { freePort, spawnSkiff, startHttpUpstream, waitFor, within } from "../_harness/mod.ts";
import { metricsText, sample } from "./_admin_api.ts";
import { exitOf, withTempDir } from "./_lifecycle.ts";

/** A config with an admin port, listener `web` and cluster `app`; `more` is appended. */
function configText(o: { admin?: number; web: number; upstream: number; more?: string }): string {
  return `${o.admin ? `admin: { address: "127.0.0.1:${o.admin}" }\n` : ""}listeners:
  - name: web
    address: 127.0.0.1:${o.web}
    routes: [{ cluster: app }]
clusters:
  - name: app
    endpoints: [{ address: "127.0.0.1:${o.upstream}" }]
reload: { watch: false }
${o.more ?? ""}`;
}

/** GET `url`; the body, or undefined when the request failed. */
async function body(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(url);
    return await res.text();
  } catch {
    return undefined;
  }
}

Deno.test("lifecycle: skiff run -- app exits with the app's status", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/skiff.yaml`;
    await Deno.writeTextFile(file, configText({ web: 0, upstream: 9 }));
    await using exits3 = await spawnSkiff(["run", "-c", file, "--", "sh", "-c", "exit 3"]);
    assert.equal(await exitOf(exits3), 3, exits3.stderr());
    await using missing = await spawnSkiff(["run", "-c", file, "--", "skiff-no-such-app"]);
    assert.equal(await exitOf(missing), 127, missing.stderr());
  });
});

Deno.test("lifecycle: the app starts only once skiff's listener answers", async () => {
  await using up = startHttpUpstream("from-upstream");
  await withTempDir(async (dir) => {
    const web = freePort();
    const file = `${dir}/skiff.yaml`;
    // With a Worker, skiff takes a while to bind: an app started too early would be refused.
    await Deno.writeTextFile(file, configText({ web, upstream: up.port, more: "workers: 1\n" }));
    // The app's status is curl's: 0 only when skiff's listener answered with a 2xx.
    await using p = await spawnSkiff([
      "run",
      "-c",
      file,
      "--",
      "curl",
      "-sf",
      "--max-time",
      "10",
      "-o",
      "/dev/null",
      `http://127.0.0.1:${web}/from-app`,
    ]);
    assert.equal(await exitOf(p), 0, p.stderr());
    assert.equal(new URL(up.requests[0].url).pathname, "/from-app");
  });
});

Deno.test("lifecycle: SIGTERM goes to the app, and skiff serves until it exits", async () => {
  await using up = startHttpUpstream("from-upstream");
  await withTempDir(async (dir) => {
    const web = freePort();
    const admin = freePort();
    const file = `${dir}/skiff.yaml`;
    await Deno.writeTextFile(file, configText({ admin, web, upstream: up.port }));
    // On SIGTERM the app still calls out through skiff, and exits with curl's status.
    const app = `trap 'curl -sf --max-time 10 -o /dev/null http://127.0.0.1:${web}/shutting-down;
      s=$?; echo app-term; exit $s' TERM; echo app-up; while :; do sleep 0.05; done`;
    await using p = await spawnSkiff(["run", "-c", file, "--", "sh", "-c", app]);
    await waitFor("the app to start", () => p.stdout().includes("app-up"), 20_000);
    p.kill("SIGTERM");
    assert.equal(await exitOf(p), 0, p.stderr());
    assert.match(p.stdout(), /app-term/);
    assert.ok(up.requests.some((r) => new URL(r.url).pathname === "/shutting-down"));
  });
});

Deno.test("lifecycle: without an app, SIGTERM and POST /drain drain and exit 0", async () => {
  await using up = startHttpUpstream("from-upstream");
  await withTempDir(async (dir) => {
    const admin = freePort();
    const file = `${dir}/skiff.yaml`;
    await Deno.writeTextFile(file, configText({ admin, web: 0, upstream: up.port }));
    const ready = `http://127.0.0.1:${admin}/ready`;
    await using byTerm = await spawnSkiff(["run", "-c", file], ready);
    byTerm.kill("SIGTERM");
    assert.equal(await exitOf(byTerm), 0, byTerm.stderr());

    await using byAdmin = await spawnSkiff(["run", "-c", file], ready);
    const res = await fetch(`http://127.0.0.1:${admin}/drain`, { method: "POST" });
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { pid: byAdmin.child.pid, draining: true });
    assert.equal(await exitOf(byAdmin), 0, byAdmin.stderr());
  });
});

Deno.test("lifecycle: a second SIGINT exits at once, in-flight work or not", async () => {
  const release = Promise.withResolvers<void>();
  const arrived = Promise.withResolvers<void>();
  await using up = startHttpUpstream("slow", async () => {
    arrived.resolve();
    await release.promise;
    return new Response("late");
  });
  try {
    await withTempDir(async (dir) => {
      const admin = freePort();
      const web = freePort();
      const file = `${dir}/skiff.yaml`;
      await Deno.writeTextFile(
        file,
        configText({ admin, web, upstream: up.port, more: "drain: { timeout: 60s }\n" }),
      );
      await using p = await spawnSkiff(["run", "-c", file], `http://127.0.0.1:${admin}/ready`);
      const held = body(`http://127.0.0.1:${web}/held`);
      await within("the request to reach the upstream", arrived.promise);
      p.kill("SIGINT");
      await p.waitForLog("shutting down", { signal: "SIGINT" });
      p.kill("SIGINT");
      assert.equal(await exitOf(p), 130, p.stderr());
      await held;
    });
  } finally {
    release.resolve();
  }
});

Deno.test("lifecycle: SIGHUP with a broken file keeps serving and says where", async () => {
  await using up = startHttpUpstream("from-upstream");
  await withTempDir(async (dir) => {
    const admin = freePort();
    const web = freePort();
    const file = `${dir}/skiff.yaml`;
    await Deno.writeTextFile(file, configText({ admin, web, upstream: up.port }));
    await using p = await spawnSkiff(["run", "-c", file], `http://127.0.0.1:${admin}/ready`);
    await Deno.writeTextFile(
      file,
      configText({ admin, web, upstream: up.port }).replace("routes:", "routez:"),
    );
    p.kill("SIGHUP");
    const line = await p.waitForLog(
      "config reload failed: the file is not valid; the running config stays",
    );
    assert.match(String(line.error), new RegExp(`${file}:5:5: listeners\\[0\\]\\.routez: `));
    assert.equal(await body(`http://127.0.0.1:${web}/still`), "from-upstream");
    assert.equal((await fetch(`http://127.0.0.1:${admin}/ready`)).status, 200);
    const metrics = await metricsText(`http://127.0.0.1:${admin}`);
    assert.equal(sample(metrics, "skiff_config_reloads_total", { result: "invalid" }), 1);
    assert.equal(sample(metrics, "skiff_config_reload_failures_total"), 1);
    assert.equal(sample(metrics, "skiff_config_version"), 1);
  });
});

Deno.test("lifecycle: SIGHUP and POST /reload apply a changed file", async () => {
  await using a = startHttpUpstream("from-a");
  await using b = startHttpUpstream("from-b");
  await using c = startHttpUpstream("from-c");
  await withTempDir(async (dir) => {
    const admin = freePort();
    const web = freePort();
    const file = `${dir}/skiff.yaml`;
    const withRoute = (path: string, port: number) =>
      configText({ admin, web, upstream: a.port }).replace(
        "routes: [{ cluster: app }]",
        `routes: [{ match: { prefix: ${path} }, cluster: extra }, { cluster: app }]`,
      ).replace(
        "clusters:\n",
        `clusters:\n  - name: extra\n    endpoints: [{ address: "127.0.0.1:${port}" }]\n`,
      );
    await Deno.writeTextFile(file, configText({ admin, web, upstream: a.port }));
    await using p = await spawnSkiff(["run", "-c", file], `http://127.0.0.1:${admin}/ready`);
    assert.equal(await body(`http://127.0.0.1:${web}/b`), "from-a");

    await Deno.writeTextFile(file, withRoute("/b", b.port));
    p.kill("SIGHUP");
    await waitFor(
      "the new route",
      async () => (await body(`http://127.0.0.1:${web}/b`)) === "from-b",
    );
    assert.equal(await body(`http://127.0.0.1:${web}/other`), "from-a");

    await Deno.writeTextFile(file, withRoute("/c", c.port));
    const res = await fetch(`http://127.0.0.1:${admin}/reload`, { method: "POST" });
    const outcome = await res.json();
    assert.equal(res.status, 200, JSON.stringify(outcome));
    assert.equal(outcome.ok, true);
    assert.equal(outcome.version, 3);
    assert.equal(await body(`http://127.0.0.1:${web}/c`), "from-c");
    const metrics = await metricsText(`http://127.0.0.1:${admin}`);
    assert.equal(sample(metrics, "skiff_config_reloads_total", { result: "ok" }), 2);
    assert.equal(sample(metrics, "skiff_config_version"), 3);
  });
});

Deno.test("lifecycle: --hot-restart takes over the admin port and listeners", async () => {
  await using up = startHttpUpstream("from-upstream");
  await withTempDir(async (dir) => {
    const admin = freePort();
    const web = freePort();
    const file = `${dir}/skiff.yaml`;
    await Deno.writeTextFile(file, configText({ admin, web, upstream: up.port }));
    const adminUrl = `http://127.0.0.1:${admin}`;
    await using old = await spawnSkiff(["run", "-c", file], `${adminUrl}/ready`);

    // A second skiff on the same config without --hot-restart is refused before binding.
    await using twin = await spawnSkiff(["run", "-c", file]);
    assert.equal(await exitOf(twin), 1, twin.stderr());
    assert.match(twin.stderr(), /--hot-restart/);
    assert.equal(await body(`http://127.0.0.1:${web}/`), "from-upstream");

    await using next = await spawnSkiff(["run", "-c", file, "--hot-restart"]);
    await next.waitForLog("hot restart complete", { old_pid: old.child.pid });
    assert.equal(await exitOf(old), 0, old.stderr());
    const res = await fetch(`${adminUrl}/ready`);
    await res.body?.cancel();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-skiff-pid"), String(next.child.pid));
    assert.equal(await body(`http://127.0.0.1:${web}/after`), "from-upstream");
    assert.ok(old.logs().some((l) => l.msg === "shutting down" && l.signal === "hot restart"));
    // Connections queued on the old listeners survive their close only with tcp_migrate_req.
    const migrate = await Deno.readTextFile("/proc/sys/net/ipv4/tcp_migrate_req")
      .then((t) => t.trim(), () => "absent");
    const warned = next.logs().some((l) => String(l.msg).includes("tcp_migrate_req"));
    assert.equal(warned, migrate !== "1", `tcp_migrate_req ${migrate}; ${next.stderr()}`);
  });
});

Deno.test("lifecycle: --hot-restart needs an admin section", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/skiff.yaml`;
    await Deno.writeTextFile(file, configText({ web: 0, upstream: 9 }));
    await using p = await spawnSkiff(["run", "-c", file, "--hot-restart"]);
    assert.equal(await exitOf(p), 2);
    assert.match(p.stderr(), /needs an admin section/);
  });
});
