// Simulator throughput: 1000 nodes each sending 10 packets/s to random peers for 60 virtual
// seconds (600k timers + 600k packets ≈ 1.2M events), with 20 ms ± lognormal jitter and 1 %
// loss. Run: deno bench --allow-all --unstable-net bench/sim_bench.ts
// Prints events/s of one run of each mode first; `deno bench` then times the runs.
import { SimNetwork } from "../src/net/sim/mod.ts";

const NODES = 1000;
const RATE_HZ = 10;
const SECONDS = 60;

function build(seed: number): SimNetwork {
  const net = new SimNetwork({
    seed,
    defaults: { latencyMs: 20, jitterMs: 5, jitter: "lognormal", loss: 0.01 },
  });
  const names = Array.from({ length: NODES }, (_, i) => `node-${i}`);
  const packet = new Uint8Array(64);
  let received = 0;
  for (const name of names) {
    const node = net.node(name);
    node.transport.onPacket(() => received++);
    const tick = () => {
      node.transport.send(names[Math.floor(node.rng() * NODES)], packet);
      node.clock.setTimer(tick, 1000 / RATE_HZ);
    };
    node.clock.setTimer(tick, node.rng() * (1000 / RATE_HZ));
  }
  return net;
}

function report(mode: string, run: (net: SimNetwork) => Promise<void> | void) {
  return async () => {
    const net = build(1);
    const t0 = performance.now();
    await run(net);
    const s = (performance.now() - t0) / 1000;
    console.log(
      `${mode}: ${net.stats.events} events in ${s.toFixed(2)} s = ${
        Math.round(net.stats.events / s).toLocaleString("en")
      } events/s (${net.stats.packetsDelivered} delivered)`,
    );
  };
}

await report("runUntilSync", (net) => net.runUntilSync(SECONDS * 1000))();
await report("runUntil (async)", (net) => net.runUntil(SECONDS * 1000))();

Deno.bench({
  name: "sim 1000 nodes × 10 pkt/s × 60 s, runUntilSync",
  n: 3,
  warmup: 1,
  fn: () => build(2).runUntilSync(SECONDS * 1000),
});

Deno.bench({
  name: "sim 1000 nodes × 10 pkt/s × 60 s, runUntil (async)",
  n: 3,
  warmup: 1,
  fn: async () => await build(3).runUntil(SECONDS * 1000),
});
