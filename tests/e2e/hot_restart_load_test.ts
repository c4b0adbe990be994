// A hot restart under wrk inside a network namespace the test creates: no failed request and
// no refused connection while the new skiff takes over from the old one.
import assert from "node:assert/strict";
import { waitFor, within } from "../_harness/mod.ts";
import { OPTS, withTempDir } from "./_lifecycle.ts";
import { hasCommand, ip, netnsUnavailable, nsLog, type NsProcess, runInNetns } from "./_netns.ts";

// Counts the responses by their x-skiff-gen header per wrk thread, summed in done().
const WRK_SCRIPT = `
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init() counts = {} end
function response(status, headers, body)
  local g = "none"
  for k, v in pairs(headers) do if string.lower(k) == "x-skiff-gen" then g = v end end
  counts[g] = (counts[g] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("counts")) do total[k] = (total[k] or 0) + v end
  end
  for k, v in pairs(total) do io.write(string.format("gen %s %d\\n", k, v)) end
end
`;

// Without wrk: 50 keep-alive fetch loops until SIGINT (or the count or the deadline);
// prints wrk-like lines at the end.
const LOOP_SCRIPT = `
const [url] = Deno.args;
let stop = false, sent = 0, non2xx = 0, errors = 0;
const gens = {};
Deno.addSignalListener("SIGINT", () => stop = true);
const deadline = Date.now() + 120_000;
await Promise.all(Array.from({ length: 50 }, async () => {
  using client = Deno.createHttpClient({ poolMaxIdlePerHost: 1 });
  for (let i = 0; i < 100_000 && !stop && Date.now() < deadline; i++) {
    sent++;
    try {
      const res = await fetch(url, { client });
      await res.arrayBuffer();
      if (res.status < 200 || res.status > 299) non2xx++;
      const g = res.headers.get("x-skiff-gen") ?? "none";
      gens[g] = (gens[g] ?? 0) + 1;
    } catch { errors++; }
  }
}));
console.log(\`  \${sent} requests in 0s\`);
if (non2xx) console.log(\`  Non-2xx or 3xx responses: \${non2xx}\`);
if (errors) console.log(\`  Socket errors: connect 0, read \${errors}, write 0, timeout 0\`);
for (const [g, n] of Object.entries(gens)) console.log(\`gen \${g} \${n}\`);
`;

// An upstream that counts requests by their x-skiff-gen header and prints "<gen> <count>"
// every 500 requests of a generation.
const UPSTREAM_SCRIPT = `
const counts = {};
Deno.serve({ hostname: "127.0.0.1", port: Number(Deno.args[0]),
  onListen: () => console.log("listening") }, (req) => {
  const g = req.headers.get("x-skiff-gen") ?? "none";
  counts[g] = (counts[g] ?? 0) + 1;
  if (counts[g] % 500 === 0) console.log(\`\${g} \${counts[g]}\`);
  return new Response("hello from upstream\\n");
});
`;

/** The latest count the upstream printed for generation `gen`. */
function upstreamCount(upstream: NsProcess, gen: string): number {
  const counts = upstream.out().split("\n").filter((l) => l.startsWith(`${gen} `));
  return counts.length ? Number(counts[counts.length - 1].split(" ")[1]) : 0;
}

/** Requests, non-2xx, socket errors and per-generation counts from wrk's (or the loop's) output. */
function parseLoadOutput(out: string) {
  const num = (re: RegExp) => Number(out.match(re)?.[1] ?? 0);
  const socket = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const gens: Record<string, number> = {};
  for (const m of out.matchAll(/^gen (\S+) (\d+)$/gm)) gens[m[1]] = Number(m[2]);
  return {
    requests: num(/(\d+) requests in/),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
    socketErrors: socket ? socket.slice(1).reduce((s, n) => s + Number(n), 0) : 0,
    socketLine: socket?.[0] ?? "none",
    gens,
  };
}

const netnsSkip = netnsUnavailable();
if (netnsSkip) console.warn(`lifecycle hot restart test skipped: ${netnsSkip}`);

Deno.test({
  name: "lifecycle: a hot restart under load in a network namespace refuses and fails nothing" +
    (netnsSkip ? ` (skipped: ${netnsSkip})` : ""),
  ignore: netnsSkip !== undefined,
  ...OPTS,
  async fn() {
    const ns = `skiff-hr-${crypto.randomUUID().slice(0, 8)}`;
    const started: NsProcess[] = [];
    await ip("netns", "add", ns);
    try {
      await ip("-n", ns, "link", "set", "lo", "up");
      await ip("netns", "exec", ns, "sysctl", "-qw", "net.ipv4.tcp_migrate_req=1");
      // The namespace is ours alone: fixed ports are free.
      const [UP, WEB, ADMIN] = [8081, 8080, 9901];
      await withTempDir(async (dir) => {
        const upstream = runInNetns(ns, Deno.execPath(), ["eval", UPSTREAM_SCRIPT, String(UP)]);
        started.push(upstream);
        await waitFor("the upstream", () => {
          if (upstream.exited()) throw new Error(`upstream exited: ${upstream.err()}`);
          return upstream.out().includes("listening");
        }, 30_000);
        // The two generations differ only in the header they add both ways.
        for (const gen of ["old", "new"]) {
          await Deno.writeTextFile(
            `${dir}/${gen}.yaml`,
            `admin: { address: "127.0.0.1:${ADMIN}" }
reload: { watch: false }
drain: { timeout: 20s }
listeners:
  - name: web
    address: 127.0.0.1:${WEB}
    routes:
      - cluster: up
        request_headers_to_add: [{ name: x-skiff-gen, value: ${gen} }]
        response_headers_to_add: [{ name: x-skiff-gen, value: ${gen} }]
clusters:
  - name: up
    endpoints: [{ address: "127.0.0.1:${UP}" }]
`,
          );
        }
        const skiff = (gen: string, hot: string[]) =>
          runInNetns(ns, Deno.execPath(), [
            "run",
            "--allow-all",
            "--unstable-net",
            new URL("../../src/main.ts", import.meta.url).pathname,
            "run",
            "-c",
            `${dir}/${gen}.yaml`,
            ...hot,
          ]);
        const old = skiff("old", []);
        started.push(old);
        await nsLog(old, "skiff started");

        const useWrk = hasCommand("wrk");
        let load: NsProcess;
        if (useWrk) {
          await Deno.writeTextFile(`${dir}/gen.lua`, WRK_SCRIPT);
          // -d bounds the run; it normally ends earlier, by SIGINT (wrk then prints its stats).
          load = runInNetns(ns, "wrk", [
            "-t2",
            "-c50",
            "-d120s",
            "-s",
            `${dir}/gen.lua`,
            `http://127.0.0.1:${WEB}/`,
          ]);
        } else {
          load = runInNetns(ns, Deno.execPath(), [
            "eval",
            LOOP_SCRIPT,
            `http://127.0.0.1:${WEB}/`,
          ]);
        }
        started.push(load);
        await waitFor(
          "load through the old skiff",
          () => upstreamCount(upstream, "old") >= 2000,
          30_000,
        );

        const next = skiff("new", ["--hot-restart"]);
        started.push(next);
        await nsLog(next, "hot restart complete");
        const oldCode = await within("the old skiff to exit", old.wait(), 40_000);
        assert.equal(oldCode, 0, old.err());
        // The load goes on through the new skiff alone.
        const atExit = upstreamCount(upstream, "new");
        await waitFor(
          "load through the new skiff after the old one exited",
          () => upstreamCount(upstream, "new") >= atExit + 2000,
          30_000,
        );
        assert.ok(!next.exited(), next.err());
        load.kill("SIGINT");
        assert.equal(await within("the load to stop", load.wait()), 0, load.err());
        const r = parseLoadOutput(load.out());
        assert.ok(r.requests > 0, load.out());
        assert.equal(r.non2xx, 0, load.out());
        assert.equal(r.socketErrors, 0, `socket errors (${r.socketLine}):\n${load.out()}`);
        assert.ok((r.gens.old ?? 0) > 0, `no response from the old skiff:\n${load.out()}`);
        assert.ok((r.gens.new ?? 0) > 0, `no response from the new skiff:\n${load.out()}`);
        assert.equal(r.gens.none ?? 0, 0, `responses from neither skiff:\n${load.out()}`);
        next.kill("SIGTERM");
        assert.equal(await within("the new skiff to exit", next.wait()), 0, next.err());
      });
    } finally {
      for (const p of started.reverse()) {
        p.kill("SIGKILL");
        await within(`pid ${p.pid} to exit`, p.wait()).catch(() => {});
      }
      await ip("netns", "del", ns);
    }
  },
});
