// End-to-end: skiff as users run it, a child process started with `skiff run -c FILE`.
import assert from "node:assert/strict";
import { freePort, RawConn, spawnSkiff, startHttpUpstream } from "../_harness/mod.ts";
import { curl } from "./_curl_cli.ts";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "skiff_e2e_process_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("process: skiff run serves traffic and exits 0 on SIGTERM", async () => {
  await using up = startHttpUpstream("from-upstream");
  await withTempDir(async (dir) => {
    const admin = freePort();
    const web = freePort();
    const file = `${dir}/skiff.yaml`;
    await Deno.writeTextFile(
      file,
      `admin: { address: "127.0.0.1:${admin}" }
listeners:
  - name: web
    address: 127.0.0.1:${web}
    routes: [{ cluster: app }]
clusters:
  - name: app
    endpoints: [{ address: "127.0.0.1:${up.port}" }]
`,
    );
    const skiff = await spawnSkiff(["run", "-c", file], `http://127.0.0.1:${admin}/ready`);
    try {
      const r = await curl([`http://127.0.0.1:${web}/hello`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(new TextDecoder().decode(r.stdout), "from-upstream");
      assert.equal(new URL(up.requests[0].url).pathname, "/hello");

      // An open keep-alive client does not hold up the shutdown.
      await using c = await RawConn.connect(web);
      await c.send("GET /held HTTP/1.1\r\nHost: a\r\n\r\n");
      assert.equal((await c.readResponse()).status, 200);

      assert.equal(await skiff.stop(), 0, skiff.stderr());
      assert.equal((await c.readToEnd()).length, 0, "the client connection was closed");
    } finally {
      await skiff.stop();
    }
    const lines = skiff.stderr().trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(lines.some((l) => l.msg === "skiff started"), skiff.stderr());
    assert.ok(lines.some((l) => l.msg === "shutting down" && l.signal === "SIGTERM"));
  });
});

Deno.test("process: skiff run with a bad config exits 1 naming file:line:column", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/bad.yaml`;
    await Deno.writeTextFile(
      file,
      `listeners:
  - name: web
    address: 127.0.0.1:0
    timeouts:
      idle: 30
    routes: [{ cluster: app }]
clusters:
  - name: app
    endpoints: [{ address: "127.0.0.1:1" }]
`,
    );
    await using skiff = await spawnSkiff(["run", "-c", file]);
    assert.equal(await skiff.wait(), 1);
    assert.match(
      skiff.stderr(),
      new RegExp(`^${file.replaceAll(".", "\\.")}:5:13: listeners\\[0\\]\\.timeouts\\.idle: `, "m"),
    );
    assert.match(skiff.stderr(), /fix: write "30s" or "30ms"/);
  });
});

Deno.test("process: skiff run exits 1 when its listener port is taken", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  await withTempDir(async (dir) => {
    const file = `${dir}/skiff.yaml`;
    await Deno.writeTextFile(
      file,
      `listeners:
  - name: web
    address: 127.0.0.1:${taken.addr.port}
    routes: [{ cluster: app }]
clusters:
  - name: app
    endpoints: [{ address: "127.0.0.1:1" }]
`,
    );
    await using skiff = await spawnSkiff(["run", "-c", file]);
    assert.equal(await skiff.wait(), 1);
    const line = skiff.stderr().trim().split("\n").map((l) => JSON.parse(l))
      .find((l) => l.msg === "cannot start");
    assert.ok(line, skiff.stderr());
    assert.match(JSON.stringify(line.err), /AddrInUse|address already in use/i);
  });
});
