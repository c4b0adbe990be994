// End-to-end: `skiff run` with a listener on an address another process holds (here a real
// socket of the test), at start and at a reload: the log names the listener, its address and
// the config key to change.
import assert from "node:assert/strict";
import { spawnSkiff } from "../_harness/mod.ts";

function config(listeners: { name: string; port: number }[]): string {
  return `reload: { watch: false }
listeners:
${
    listeners.map((l) =>
      `  - name: ${l.name}\n    address: 127.0.0.1:${l.port}\n    routes: [{ cluster: app }]\n`
    ).join("")
  }clusters:
  - name: app
    endpoints: [{ address: "127.0.0.1:1" }]
`;
}

Deno.test("run: a listener port in use at start names the listener, address and fix", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const address = `127.0.0.1:${taken.addr.port}`;
  const dir = await Deno.makeTempDir({ prefix: "skiff_cli_busy_" });
  try {
    const file = `${dir}/busy.yaml`;
    await Deno.writeTextFile(
      file,
      config([{ name: "web", port: 0 }, { name: "api", port: taken.addr.port }]),
    );
    await using skiff = await spawnSkiff(["run", "-c", file]);
    assert.equal(await skiff.wait(), 1, skiff.stderr());
    const line = skiff.logs().find((l) => l.msg === "cannot start");
    assert.ok(line, skiff.stderr());
    assert.equal(
      line.err,
      `AddrInUse: listener "api" cannot bind ${address}: the address is already in use — ` +
        `another program listens on ${address}: stop it, or choose another address in ` +
        "listeners[1].address",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("run: a reload that moves a listener to a port in use names it and keeps serving", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const address = `127.0.0.1:${taken.addr.port}`;
  const dir = await Deno.makeTempDir({ prefix: "skiff_cli_busy_" });
  try {
    const file = `${dir}/skiff.yaml`;
    await Deno.writeTextFile(file, config([{ name: "web", port: 0 }]));
    await using skiff = await spawnSkiff(["run", "-c", file]);
    await skiff.waitForLog("skiff started");
    await Deno.writeTextFile(file, config([{ name: "web", port: taken.addr.port }]));
    skiff.kill("SIGHUP");
    const line = await skiff.waitForLog("config reload refused; the running config stays");
    assert.equal(
      line.error,
      `listener "web" cannot bind ${address}: the address is already in use — another ` +
        `program listens on ${address}: stop it, or choose another address in ` +
        "listeners[0].address",
    );
    assert.equal(await skiff.stop(), 0, "skiff served on and drained");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
