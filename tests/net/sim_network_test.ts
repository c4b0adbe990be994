import assert from "node:assert/strict";
import { TimeoutError } from "../../src/core/abort.ts";
import { type LinkConditions, SimNetwork } from "../../src/net/sim/mod.ts";
import type { MessageStream } from "../../src/net/transport.ts";

/** Two nodes a → b; b records every packet with its virtual arrival time. */
function pair(conditions: LinkConditions, seed = 1) {
  const net = new SimNetwork({ seed, defaults: conditions });
  const a = net.node("a"), b = net.node("b");
  const got: { t: number; from: string; seq: number }[] = [];
  b.transport.onPacket((from, p) => got.push({ t: net.now, from, seq: p[0] | (p[1] << 8) }));
  const send = (seq: number) => a.transport.send("b", new Uint8Array([seq & 0xff, seq >> 8]));
  return { net, a, b, got, send };
}

/** Sends `n` packets a → b one per ms, runs to the end, returns how many arrived. */
function lossRun(conditions: LinkConditions, n: number, seed: number) {
  const { net, got, send } = pair(conditions, seed);
  for (let i = 0; i < n; i++) net.node("a").clock.setTimer(() => send(i), i);
  net.runForSync(n + 1000);
  return { net, got };
}

Deno.test("SimNetwork: independent loss drops close to its probability, identically per seed", () => {
  const n = 20_000;
  const first = lossRun({ loss: 0.1 }, n, 7);
  const lost = n - first.got.length;
  // 10 % of 20 000 = 2000, σ ≈ 42: a loss model off by a few percent fails this.
  assert.ok(Math.abs(lost - 2000) < 170, `lost ${lost} of ${n}`);
  assert.equal(first.net.stats.packetsLost, lost);
  assert.equal(lossRun({ loss: 0.1 }, n, 7).got.length, first.got.length, "same seed, same count");
  assert.notEqual(lossRun({ loss: 0.1 }, n, 8).got.length, first.got.length, "other seed differs");
});

Deno.test("SimNetwork: bursty loss clusters drops into runs (Gilbert-Elliott)", () => {
  const n = 20_000;
  const burst = { enterBad: 0.01, exitBad: 0.2 }; // bad 1/21 of the time, bursts ~5 packets
  const { got } = lossRun({ burst }, n, 3);
  const arrived = new Set(got.map((g) => g.seq));
  let runs = 0, lostCount = 0;
  for (let i = 0; i < n; i++) {
    if (arrived.has(i)) continue;
    lostCount++;
    if (i === 0 || arrived.has(i - 1)) runs++;
  }
  const rate = lostCount / n, meanRun = lostCount / runs;
  assert.ok(Math.abs(rate - 1 / 21) < 0.015, `loss rate ${rate}`);
  assert.ok(meanRun > 3.5 && meanRun < 7, `mean burst ${meanRun} packets (independent ≈ 1.05)`);
});

Deno.test("SimNetwork: latency is base + jitter, and jitter reorders packets", () => {
  const jittered = lossRun({ latencyMs: 20, jitterMs: 10 }, 2000, 1).got;
  let reordered = 0;
  jittered.forEach((g, i) => {
    const delay = g.t - g.seq;
    assert.ok(delay >= 20 && delay < 30, `delay ${delay}`);
    if (i > 0 && g.seq < jittered[i - 1].seq) reordered++;
  });
  assert.ok(reordered > 100, `reordered ${reordered}`);
  const steady = lossRun({ latencyMs: 20 }, 500, 1).got;
  assert.deepEqual(steady.map((g) => g.seq), steady.map((_, i) => i), "no jitter, no reordering");
  const tail = lossRun({ latencyMs: 5, jitterMs: 10, jitter: "lognormal" }, 4000, 1).got
    .map((g) => g.t - g.seq - 5).sort((x, y) => x - y);
  const median = tail[tail.length >> 1];
  assert.ok(median > 9 && median < 11, `log-normal jitter median ${median} ≈ jitterMs`);
  assert.ok(tail[tail.length - 1] > 2 * median, "log-normal jitter has a tail");
});

Deno.test("SimNetwork: duplication delivers some packets twice", () => {
  const { net, got } = lossRun({ duplicate: 0.2, jitterMs: 3 }, 5000, 11);
  const extra = got.length - 5000;
  assert.equal(extra, net.stats.packetsDuplicated);
  assert.ok(Math.abs(extra - 1000) < 120, `duplicated ${extra}`);
  assert.equal(new Set(got.map((g) => g.seq)).size, 5000, "every packet arrived at least once");
});

Deno.test("SimNetwork: per-link conditions override the defaults in one direction", () => {
  const { net, a, b, got } = pair({ latencyMs: 1 });
  net.setLink("a", "b", { loss: 1 });
  const back: number[] = [];
  a.transport.onPacket(() => back.push(net.now));
  a.transport.send("b", new Uint8Array(1));
  b.transport.send("a", new Uint8Array(1));
  net.runForSync(10);
  assert.equal(got.length, 0);
  assert.deepEqual(back, [1]);
  net.setLink("a", "b", null);
  a.transport.send("b", new Uint8Array(1));
  net.runForSync(10);
  assert.equal(got.length, 1);
  assert.throws(() => net.setLink("a", "b", { loss: 1.5 }), RangeError);
});

Deno.test("SimNetwork: a partition blocks packets, connects and streams; heal restores", async () => {
  const net = new SimNetwork({ seed: 2, defaults: { latencyMs: 5 } });
  const [a, b, c] = ["a", "b", "c"].map((n) => net.node(n));
  const seen: string[] = [];
  for (const x of [a, b, c]) x.transport.onPacket((from) => seen.push(`${from}>${x.name}`));
  let far: MessageStream | null = null;
  b.transport.onStream((_, s) => far = s);
  const nearP = a.transport.connect("b", 100);
  await net.runFor(20);
  const near = await nearP;
  assert.ok(far);

  net.partition([["a"], ["b", "c"]]);
  await assert.rejects(near.receive(10), /partition/, "a crossing stream fails");
  a.transport.send("b", new Uint8Array(1));
  b.transport.send("c", new Uint8Array(1));
  const blocked = a.transport.connect("b", 50);
  const rejected = assert.rejects(blocked, TimeoutError);
  await net.runFor(100);
  await rejected;
  assert.deepEqual(seen, ["b>c"]);
  assert.equal(net.stats.packetsBlocked, 1);

  net.heal();
  a.transport.send("b", new Uint8Array(1));
  c.transport.send("a", new Uint8Array(1));
  await net.runFor(20);
  assert.deepEqual(seen, ["b>c", "a>b", "c>a"]);
});

Deno.test("SimNetwork: a stalled node gets its timers and packets late, in order, none dropped", () => {
  const net = new SimNetwork({ seed: 3, defaults: { latencyMs: 1 } });
  const a = net.node("a"), b = net.node("b");
  const log: string[] = [];
  b.transport.onPacket((_, p) => log.push(`p${p[0]}@${net.now}`));
  b.clock.setTimer(() => log.push(`timer@${net.now}`), 100);
  a.clock.setTimer(() => log.push(`a-timer@${net.now}`), 100);
  net.stall("b", 500);
  for (let i = 0; i < 5; i++) {
    a.clock.setTimer(() => a.transport.send("b", new Uint8Array([i])), i * 10);
  }
  net.runForSync(499);
  assert.deepEqual(log, ["a-timer@100"], "only the healthy node runs during the stall");
  net.runForSync(2);
  // Packets arrived at 1, 11, …, 41 and the timer was due at 100: caught up in that order.
  assert.deepEqual(log, [
    "a-timer@100",
    "p0@500",
    "p1@500",
    "p2@500",
    "p3@500",
    "p4@500",
    "timer@500",
  ]);
  assert.equal(net.stats.packetsDelivered, 5);
  assert.ok(net.stats.deferred >= 6);
});

Deno.test("SimNetwork: a killed node drops everything until restarted with a fresh transport", async () => {
  const net = new SimNetwork({ seed: 4, defaults: { latencyMs: 2 } });
  const a = net.node("a"), b = net.node("b");
  const atB: number[] = [];
  const atA: number[] = [];
  let timerFired = false;
  b.transport.onPacket((_, p) => atB.push(p[0]));
  a.transport.onPacket((_, p) => atA.push(p[0]));
  b.transport.onStream(() => {});
  const nearP = a.transport.connect("b", 100);
  await net.runFor(10);
  const near = await nearP;
  a.transport.send("b", new Uint8Array([1])); // in flight when b dies
  b.clock.setTimer(() => timerFired = true, 5);
  net.kill("b");
  await assert.rejects(near.receive(10), /killed/);
  a.transport.send("b", new Uint8Array([2]));
  b.transport.send("a", new Uint8Array([3]));
  assert.equal(b.transport.dropped, 1);
  const refused = assert.rejects(a.transport.connect("b", 30), TimeoutError);
  await net.runFor(50);
  await refused;
  assert.deepEqual(atB, []);
  assert.deepEqual(atA, []);
  assert.equal(timerFired, false);

  const b2 = net.restart("b");
  assert.notEqual(b2.transport, b.transport);
  assert.equal(net.node("b"), b2);
  const fresh: number[] = [];
  b2.transport.onPacket((_, p) => fresh.push(p[0]));
  b.transport.onPacket(() => assert.fail("the old transport must stay dead"));
  a.transport.send("b", new Uint8Array([4]));
  await net.runFor(10);
  assert.deepEqual(fresh, [4]);
  assert.deepEqual(atB, []);
});

Deno.test("SimNetwork: async code resumed by a stream event runs at that event's virtual time", async () => {
  const net = new SimNetwork({ seed: 5, defaults: { latencyMs: 10 } });
  const a = net.node("a"), b = net.node("b");
  b.transport.onStream(async (_, s) => {
    const m = await s.receive(1000);
    await s.send(m!); // an echo written as ordinary async code
    s.close();
  });
  const times: number[] = [];
  const client = (async () => {
    const s = await a.transport.connect("b", 1000);
    times.push(a.clock.monotonic());
    await s.send(new Uint8Array([9]));
    assert.deepEqual(await s.receive(1000), new Uint8Array([9]));
    times.push(a.clock.monotonic());
    assert.equal(await s.receive(1000), null);
    times.push(a.clock.monotonic());
  })();
  await net.runFor(1000);
  await client;
  assert.deepEqual(times, [20, 40, 40], "connect = 1 RTT, echo = 1 RTT, close follows the data");
});

/** A busy scenario touching every feature; returns the trace hash. */
async function busy(seed: number): Promise<string> {
  const net = new SimNetwork({
    seed,
    defaults: { latencyMs: 3, jitterMs: 4, jitter: "lognormal", loss: 0.05, duplicate: 0.02 },
  });
  const names = Array.from({ length: 30 }, (_, i) => `n${i}`);
  net.setLink("n0", "n1", { burst: { enterBad: 0.1, exitBad: 0.3 } }, true);
  const start = (name: string) => {
    const node = net.node(name);
    node.transport.onPacket((from, p) => {
      if (p[0] < 3) node.transport.send(from, new Uint8Array([p[0] + 1, node.rng() * 256]));
    });
    node.transport.onStream(async (_, s) => {
      try {
        for (let m = await s.receive(200); m; m = await s.receive(200)) await s.send(m);
      } catch { /* failed by a kill or partition: that is part of the scenario */ }
    });
    const tick = () => {
      const peer = names[Math.floor(node.rng() * names.length)];
      node.transport.send(peer, new Uint8Array([0, node.rng() * 256]));
      if (node.rng() < 0.05) {
        node.transport.connect(peer, 100).then(async (s) => {
          await s.send(new Uint8Array(500));
          await s.receive(100);
          s.close();
        }).catch(() => {});
      }
      node.clock.setTimer(tick, 20 + node.rng() * 20);
    };
    tick();
  };
  names.forEach(start);
  await net.runFor(300);
  net.partition([names.slice(0, 10)]);
  net.stall("n15", 200);
  await net.runFor(300);
  net.heal();
  net.kill("n20");
  await net.runFor(200);
  net.restart("n20");
  start("n20");
  await net.runFor(300);
  assert.ok(net.stats.packetsDelivered > 3000, "the scenario is busy");
  return net.traceHash();
}

Deno.test("SimNetwork: the same seed gives the same trace; another seed a different one", async () => {
  const h1 = await busy(7);
  assert.equal(await busy(7), h1);
  assert.notEqual(await busy(8), h1);
});

Deno.test("SimNetwork: keepTrace records compact events", () => {
  const net = new SimNetwork({ seed: 1, keepTrace: true, defaults: { loss: 0.5 } });
  const a = net.node("a");
  net.node("b").transport.onPacket(() => {});
  for (let i = 0; i < 20; i++) a.transport.send("b", new Uint8Array(4));
  a.transport.send("ghost", new Uint8Array(1));
  net.runForSync(5);
  const trace = net.trace();
  const count = (k: string) => trace.filter((r) => r.kind === k).length;
  assert.equal(count("send"), 21);
  assert.equal(count("deliver") + count("lost") + count("dead"), 21);
  assert.deepEqual(trace.find((r) => r.kind === "deliver"), {
    t: 1,
    kind: "deliver",
    node: "b",
    peer: "a",
    bytes: 0,
  });
  assert.throws(() => new SimNetwork({ seed: 1 }).trace(), /keepTrace/);
});
