// Real HTTP/2 clients (curl and h2load, both on nghttp2) against a server built directly on
// skiff's H2Connection: prior-knowledge h2c, large bodies through flow control both ways,
// and thousands of multiplexed requests without a failure.
import assert from "node:assert/strict";
import { randomBytes, sha256 } from "../../_harness/mod.ts";
import type { H2Stream } from "../../../src/dataplane/http2/h2_stream.ts";
import { echo, readAll, startServer, type TestServer, within, writeAll } from "./_h2_peers.ts";

function has(binary: string): boolean {
  try {
    return new Deno.Command(binary, { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const haveCurl = has("curl");
const haveH2load = has("h2load");

/** `/bytes/<n>` answers n pseudo-random bytes; anything else is echoed. */
function serve(): TestServer {
  return startServer({
    onStream: (s: H2Stream) => {
      const path = s.headers![s.headers!.indexOf(":path") + 1];
      const m = /^\/bytes\/(\d+)$/.exec(path);
      const reply = m
        ? (async () => {
          await readAll(s);
          const body = pattern(Number(m[1]));
          s.sendHeaders([":status", "200", "x-sha256", sha256(body)], false);
          await writeAll(s, body);
        })()
        : echo(s);
      reply.catch(() => s.reset());
    },
  });
}

function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + (i >> 8)) & 0xff;
  return out;
}

async function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  const child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).spawn();
  const r = await within(`${cmd} to finish`, child.output(), 60_000);
  const text = new TextDecoder();
  return { code: r.code, out: text.decode(r.stdout) + text.decode(r.stderr) };
}

Deno.test({
  name: "curl --http2-prior-knowledge: 5 MiB up and echoed back, 3 MB down, byte-exact",
  ignore: !haveCurl,
  fn: async () => {
    const server = serve();
    const dir = await Deno.makeTempDir();
    try {
      const up = randomBytes(5 * 1024 * 1024);
      await Deno.writeFile(`${dir}/up`, up);
      const base = `http://127.0.0.1:${server.port}`;
      const curlArgs = ["-sS", "--http2-prior-knowledge", "-w", "%{http_version} %{http_code}"];
      const echoed = await run("curl", [
        ...curlArgs,
        "--data-binary",
        `@${dir}/up`,
        "-o",
        `${dir}/echoed`,
        `${base}/echo`,
      ]);
      assert.equal(echoed.code, 0, echoed.out);
      assert.equal(echoed.out, "2 200");
      assert.equal(sha256(await Deno.readFile(`${dir}/echoed`)), sha256(up));

      const down = await run("curl", [...curlArgs, "-o", `${dir}/down`, `${base}/bytes/3000000`]);
      assert.equal(down.code, 0, down.out);
      assert.equal(down.out, "2 200");
      assert.equal(sha256(await Deno.readFile(`${dir}/down`)), sha256(pattern(3_000_000)));
    } finally {
      await Deno.remove(dir, { recursive: true });
      await server.close();
    }
  },
});

/** Parses h2load's "requests: …" summary line. */
function summary(out: string) {
  const m =
    /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/
      .exec(out);
  assert.ok(m, `no summary in h2load's output:\n${out}`);
  const [total, started, done, succeeded, failed, errored] = m.slice(1).map(Number);
  const codes = /status codes: (\d+) 2xx/.exec(out);
  return { total, started, done, succeeded, failed, errored, ok2xx: Number(codes?.[1] ?? -1) };
}

Deno.test({
  name: "h2load -n 2000 -c 4 -m 20: every request succeeds",
  ignore: !haveH2load,
  fn: async () => {
    const server = serve();
    try {
      const r = await run("h2load", [
        "-n",
        "2000",
        "-c",
        "4",
        "-m",
        "20",
        `http://127.0.0.1:${server.port}/`,
      ]);
      assert.equal(r.code, 0, r.out);
      const s = summary(r.out);
      assert.deepEqual(s, {
        total: 2000,
        started: 2000,
        done: 2000,
        succeeded: 2000,
        failed: 0,
        errored: 0,
        ok2xx: 2000,
      }, r.out);
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name: "h2load with 100 KB request bodies echoed: flow control both ways, none fail",
  ignore: !haveH2load,
  fn: async () => {
    const server = serve();
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeFile(`${dir}/body`, randomBytes(100_000));
      const r = await run("h2load", [
        "-n",
        "400",
        "-c",
        "4",
        "-m",
        "20",
        "-d",
        `${dir}/body`,
        `http://127.0.0.1:${server.port}/echo`,
      ]);
      assert.equal(r.code, 0, r.out);
      const s = summary(r.out);
      assert.equal(s.succeeded, 400, r.out);
      assert.equal(s.failed, 0, r.out);
      assert.equal(s.errored, 0, r.out);
      assert.equal(s.ok2xx, 400, r.out);
    } finally {
      await Deno.remove(dir, { recursive: true });
      await server.close();
    }
  },
});
