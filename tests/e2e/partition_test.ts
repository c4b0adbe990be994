// A network partition between two sidecars in two network namespaces the test creates,
// joined by a veth pair. Namespace A runs a client load loop and sidecar A, whose route to B
// has a circuit breaker and a static fallback; namespace B runs sidecar B (inbound, on the
// veth address) in front of an app on B's loopback. Mid-traffic the link is cut (`ip link set
// down` on B's end: A's packets are lost silently, as in a real partition), then healed. The
// test waits, with deadlines, for what a user would see: the breaker opening on A's /metrics,
// fallbacks served, and after the heal the breaker closed and answers from B again.
import assert from "node:assert/strict";
import { waitFor, within } from "../_harness/mod.ts";
import { OPTS, withTempDir } from "./_lifecycle.ts";
import { ip, netnsUnavailable, nsLog, type NsProcess, runInNetns, skiffInNetns } from "./_netns.ts";

const [A_IP, B_IP] = ["10.231.0.1", "10.231.0.2"];
const [APP, WEB, ADMIN] = [8081, 8080, 9901]; // each namespace is ours alone: fixed ports are free
const ROUTE = "web/to-b"; // the route breaker's name on /metrics: listener/route

// The app in B: a body that names it.
const APP_SCRIPT = `
Deno.serve({ hostname: "127.0.0.1", port: Number(Deno.args[0]),
  onListen: () => console.log("listening") }, () => new Response("hello from b\\n"));
`;

// The client in A: 8 keep-alive loops through sidecar A (until SIGINT, 120 s or 400,000
// requests), sorting answers into "b" (200 from B), fallbacks by reason and other outcomes;
// every 50 ms it reads A's /metrics and prints one JSON line with the counts so far, the
// latest run of consecutive answers from B, and the route breaker's state and transitions.
const CLIENT_SCRIPT = `
const [url, admin, scope, name] = Deno.args;
let stop = false, sent = 0, b = 0, streak = 0;
const fallback = {}, other = {};
const breaker = { state: -1, open: 0, half_open: 0, closed: 0 };
Deno.addSignalListener("SIGINT", () => stop = true);
const deadline = Date.now() + 120_000;
const bump = (o, k) => o[k] = (o[k] ?? 0) + 1;
const labels = \`scope="\${scope}",name="\${name}"\`;
function value(text, metric) {
  const line = text.split("\\n").find((l) => l.startsWith(metric + "{") && l.includes(labels));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}
const print = () => console.log(JSON.stringify({ sent, b, streak, fallback, other, breaker }));
const load = Promise.all(Array.from({ length: 8 }, async () => {
  using client = Deno.createHttpClient({ poolMaxIdlePerHost: 1 });
  while (!stop && sent < 400_000 && Date.now() < deadline) {
    sent++;
    try {
      const res = await fetch(url, { client, signal: AbortSignal.timeout(10_000) });
      const body = await res.text();
      const fb = res.headers.get("x-skiff-fallback");
      if (fb) { bump(fallback, fb); streak = 0; }
      else if (res.status === 200 && body === "hello from b\\n") { b++; streak++; }
      else { bump(other, \`\${res.status} \${res.headers.get("x-skiff-error")}\`); streak = 0; }
    } catch (err) { bump(other, String(err.name)); streak = 0; }
  }
}));
const scrape = (async () => {
  using client = Deno.createHttpClient({});
  while (!stop && Date.now() < deadline) {
    try {
      const res = await fetch(admin + "/metrics", { client, signal: AbortSignal.timeout(5_000) });
      const text = await res.text();
      breaker.state = value(text, "skiff_circuit_breaker_state");
      for (const to of ["open", "half_open", "closed"]) {
        breaker[to] = Number(text.split("\\n").find((l) =>
          l.startsWith("skiff_circuit_breaker_transitions_total{") && l.includes(labels) &&
          l.includes(\`to="\${to}"\`))?.split(" ").at(-1) ?? 0);
      }
    } catch (err) { console.error("scrape:", err); }
    print();
    await new Promise((r) => setTimeout(r, 50));
  }
})();
await Promise.all([load, scrape]);
print();
`;

/** One line of the client's progress. */
interface Progress {
  sent: number;
  /** 200s from B's app. */
  b: number;
  /** Answers from B in a row, most recent. */
  streak: number;
  /** Fallbacks by x-skiff-fallback reason. */
  fallback: Record<string, number>;
  /** Other outcomes by "status x-skiff-error", or the fetch error's name. */
  other: Record<string, number>;
  /** The route breaker: state (0 closed, 1 open, 2 half-open) and transitions by target. */
  breaker: { state: number; open: number; half_open: number; closed: number };
}

function progress(client: NsProcess): Progress | undefined {
  const lines = client.out().trimEnd().split("\n").filter((l) => l.startsWith("{"));
  const last = lines.at(-1);
  return last ? JSON.parse(last) as Progress : undefined;
}

const sum = (o: Record<string, number>) => Object.values(o).reduce((s, n) => s + n, 0);

function configA(): string {
  return `admin: { address: "127.0.0.1:${ADMIN}" }
reload: { watch: false }
listeners:
  - name: web
    address: 127.0.0.1:${WEB}
    routes:
      - name: to-b
        cluster: b
        timeout: 1s
        circuit_breaker:
          sliding_window_size: 10
          minimum_number_of_calls: 5
          failure_rate_threshold: 50
          wait_duration_in_open_state: 1s
          permitted_number_of_calls_in_half_open_state: 2
        fallback:
          on: [circuit_open]
          response: { status: 200, body: "degraded\\n" }
clusters:
  - name: b
    connect_timeout: 250ms
    endpoints: [{ address: "${B_IP}:${WEB}" }]
`;
}

function configB(): string {
  return `admin: { address: "127.0.0.1:${ADMIN}" }
reload: { watch: false }
listeners:
  - name: inbound
    address: ${B_IP}:${WEB}
    routes: [{ cluster: app }]
clusters:
  - name: app
    endpoints: [{ address: "127.0.0.1:${APP}" }]
`;
}

const netnsSkip = netnsUnavailable();
if (netnsSkip) console.warn(`partition test skipped: ${netnsSkip}`);

Deno.test({
  name: "partition: a cut link opens A's breaker and serves fallbacks; after the heal B answers " +
    "again" + (netnsSkip ? ` (skipped: ${netnsSkip})` : ""),
  ignore: netnsSkip !== undefined,
  ...OPTS,
  async fn() {
    const id = crypto.randomUUID().slice(0, 8);
    const [nsA, nsB] = [`skiff-pa-${id}`, `skiff-pb-${id}`];
    const started: NsProcess[] = [];
    const made: string[] = [];
    let client: NsProcess | undefined;
    const report = () =>
      `client: ${client?.out().trimEnd().split("\n").at(-1)}\n` +
      `stderr of the client: ${client?.err().slice(-2000)}`;
    try {
      for (const ns of [nsA, nsB]) {
        await ip("netns", "add", ns);
        made.push(ns);
        await ip("-n", ns, "link", "set", "lo", "up");
      }
      // The pair is made inside A (its names are A's and B's alone), one end moved to B.
      const pair = ["veth-a", "type", "veth", "peer", "name", "veth-b", "netns", nsB];
      await ip("-n", nsA, "link", "add", ...pair);
      await ip("-n", nsA, "addr", "add", `${A_IP}/24`, "dev", "veth-a");
      await ip("-n", nsB, "addr", "add", `${B_IP}/24`, "dev", "veth-b");
      await ip("-n", nsA, "link", "set", "veth-a", "up");
      await ip("-n", nsB, "link", "set", "veth-b", "up");

      await withTempDir(async (dir) => {
        await Deno.writeTextFile(`${dir}/a.yaml`, configA());
        await Deno.writeTextFile(`${dir}/b.yaml`, configB());
        const app = runInNetns(nsB, Deno.execPath(), ["eval", APP_SCRIPT, String(APP)]);
        started.push(app);
        await waitFor("the app in B", () => {
          if (app.exited()) throw new Error(`the app exited: ${app.err()}`);
          return app.out().includes("listening");
        }, 30_000);
        const sidecarB = skiffInNetns(nsB, `${dir}/b.yaml`);
        started.push(sidecarB);
        const sidecarA = skiffInNetns(nsA, `${dir}/a.yaml`);
        started.push(sidecarA);
        await Promise.all([nsLog(sidecarB, "skiff started"), nsLog(sidecarA, "skiff started")]);

        client = runInNetns(nsA, Deno.execPath(), [
          "eval",
          CLIENT_SCRIPT,
          `http://127.0.0.1:${WEB}/`,
          `http://127.0.0.1:${ADMIN}`,
          "route",
          ROUTE,
        ]);
        started.push(client);
        const c = client;
        /** The first progress line that satisfies `ok`, within 30 s; fails with the client's state. */
        const until = async (what: string, ok: (p: Progress) => boolean): Promise<Progress> => {
          try {
            return await waitFor(what, () => {
              if (c.exited()) throw new Error(`the client exited: ${c.err()}`);
              const p = progress(c);
              return p && ok(p) ? p : undefined;
            }, 30_000) as Progress;
          } catch (err) {
            throw new Error(`${(err as Error).message}\n${report()}`);
          }
        };

        // Before the cut: everything answered by B through both sidecars, the breaker closed.
        const before = await until(
          "200 answers from B before the cut",
          (p) => p.b >= 200 && p.breaker.state === 0,
        );
        assert.equal(sum(before.fallback), 0, report());
        assert.deepEqual(before.other, {}, report());
        assert.equal(before.breaker.open, 0, report());

        // The cut: B's end of the link goes down; A's packets to B are lost.
        await ip("-n", nsB, "link", "set", "veth-b", "down");
        const open = await until(
          "A's route breaker to be open (state 1)",
          (p) => p.breaker.state === 1 && p.breaker.open >= 1,
        );
        const cutFallbacks = open.fallback.circuit_open ?? 0;
        const partitioned = await until(
          "100 more circuit_open fallbacks while the link is cut",
          (p) => (p.fallback.circuit_open ?? 0) >= cutFallbacks + 100,
        );
        assert.ok(partitioned.breaker.open >= 1, report());
        // Trial calls in half-open fail while the link is down: the circuit opens again.
        const reopened = await until(
          "a half-open trial to fail and reopen the circuit",
          (p) => p.breaker.half_open >= 1 && p.breaker.open >= 2,
        );
        assert.equal(reopened.breaker.closed, 0, `closed while cut?\n${report()}`);

        // The heal: the link comes back; the next trial calls succeed and the circuit closes.
        await ip("-n", nsB, "link", "set", "veth-b", "up");
        const healedAt = progress(c)!;
        const recovered = await until(
          "the breaker closed and 500 answers from B in a row after the heal",
          (p) =>
            p.breaker.state === 0 && p.breaker.closed >= 1 && p.streak >= 500 &&
            p.b >= healedAt.b + 500,
        );
        assert.ok(recovered.b > healedAt.b, report());

        client.kill("SIGINT");
        assert.equal(await within("the client to stop", client.wait()), 0, report());
        const end = progress(client)!;
        // Nothing but fallbacks and failures skiff names: no hang-ups, no unnamed errors.
        for (const k of Object.keys(end.other)) {
          assert.match(
            k,
            /^50[234] \w+$/,
            `an outcome other than a named skiff error:\n${report()}`,
          );
        }
        assert.ok(!sidecarA.exited() && !sidecarB.exited(), sidecarA.err() + sidecarB.err());
        console.log(`partition run: ${JSON.stringify(end)}`);
      });
    } finally {
      for (const p of started.reverse()) {
        p.kill("SIGKILL");
        await within(`pid ${p.pid} to exit`, p.wait()).catch(() => {});
      }
      for (const ns of made) await ip("netns", "del", ns).catch(() => {});
    }
  },
});
