import assert from "node:assert/strict";
import {
  Awareness,
  BroadcastQueue,
  classifyUpdate,
  loadFactor,
  type MemberUpdate,
  minSuspicionTimeout,
  ProbeOrder,
  refutation,
  retransmitLimit,
  suspicionTimeout,
} from "../../../src/discovery/gossip/mod.ts";
import { seededRng } from "../../../src/core/mod.ts";
import { quorumTimeout, verifyChance } from "../../../src/discovery/gossip/suspicion.ts";
import {
  BASIC_SWIM,
  MEMBERLIST_DEFAULTS,
  SKIFF_CONSERVATIVE,
  SKIFF_DEFAULTS,
} from "../../../src/discovery/gossip/swim_config.ts";

Deno.test("minSuspicionTimeout: memberlist's mult × max(1, log10 n) × interval", () => {
  const cases: [number, number, number, number][] = [
    // mult, n, interval, expected ms
    [4, 1, 1000, 4000],
    [4, 10, 1000, 4000],
    [4, 100, 1000, 8000],
    [4, 1000, 1000, 12000],
    [5, 1000, 200, 3000],
  ];
  for (const [mult, n, interval, want] of cases) {
    assert.ok(
      Math.abs(minSuspicionTimeout(mult, n, interval) - want) < 1e-6,
      `mult ${mult}, n ${n}`,
    );
  }
});

Deno.test("suspicionTimeout falls from max to min as independent confirmations arrive", () => {
  // log(c + 1) / log(4) of the way from 30 s down to 10 s.
  const cases: [number, number][] = [[0, 30000], [1, 20000], [2, 14150], [3, 10000], [9, 10000]];
  for (const [confirmations, want] of cases) {
    assert.equal(suspicionTimeout(10000, 30000, confirmations, 3), want, `${confirmations}`);
  }
  // Strictly shrinking until the floor.
  const seq = [0, 1, 2, 3].map((c) => suspicionTimeout(2000, 12000, c, 3));
  for (let i = 1; i < seq.length; i++) assert.ok(seq[i] < seq[i - 1]);
  assert.equal(suspicionTimeout(5000, 5000, 0, 3), 5000, "no range: the floor");
  assert.equal(suspicionTimeout(5000, 20000, 0, 0), 5000, "no confirmations expected");
  assert.equal(suspicionTimeout(5000, 20000, -4, 3), 20000, "negative counts as none");
});

Deno.test("quorumTimeout: the short timeout only once enough distinct members suspect", () => {
  const cases: [number, number, number, number, number][] = [
    // timeout, quorumMs, confirmers, quorum, expected
    [72000, 500, 1, 3, 72000], // a lone suspicion keeps the long timeout
    [60000, 500, 2, 3, 60000],
    [48000, 500, 3, 3, 500], // quorum reached
    [48000, 500, 7, 3, 500],
    [400, 500, 3, 3, 400], // never later than the Lifeguard timeout
    [48000, -5, 3, 3, 0], // clamped at 0
    [48000, 500, 9, 0, 48000], // quorum 0: off (memberlist)
  ];
  for (const [timeout, quorumMs, confirmers, quorum, want] of cases) {
    assert.equal(
      quorumTimeout(timeout, quorumMs, confirmers, quorum),
      want,
      `${timeout} ${quorumMs} ${confirmers} ${quorum}`,
    );
  }
});

Deno.test("verifyChance: about `expected` of the n - 2 others verify a fresh suspicion", () => {
  const cases: [number, number, number][] = [
    // expected, n, chance
    [6, 1000, 6 / 998],
    [6, 102, 0.06],
    [6, 8, 1], // small cluster: everyone checks
    [6, 2, 0], // nobody else left
    [6, 0, 0],
    [0, 1000, 0], // off (memberlist)
  ];
  for (const [expected, n, want] of cases) {
    assert.ok(Math.abs(verifyChance(expected, n) - want) < 1e-12, `${expected} ${n}`);
  }
});

Deno.test("the skiff-only rules are off in the baseline presets", () => {
  for (const preset of [MEMBERLIST_DEFAULTS, BASIC_SWIM]) {
    assert.equal(preset.independentConfirmations, false);
    assert.equal(preset.suspicionVerifiers, 0);
    assert.equal(preset.suspicionQuorum, 0);
    assert.equal(preset.firstHandVerify, false);
    assert.equal(preset.failOnNacks, false);
    assert.equal(preset.probeIntervalMs, 1000);
    assert.equal(preset.indirectChecks, 3);
  }
  assert.equal(SKIFF_DEFAULTS.independentConfirmations, true);
  assert.ok(SKIFF_DEFAULTS.suspicionQuorum >= 3, "a quorum of at least 3 distinct observers");
  // The conservative preset differs in the quorum timeout alone, and waits longer.
  assert.deepEqual(
    { ...SKIFF_CONSERVATIVE, suspicionQuorumMs: 0 },
    { ...SKIFF_DEFAULTS, suspicionQuorumMs: 0 },
  );
  assert.ok(SKIFF_CONSERVATIVE.suspicionQuorumMs > SKIFF_DEFAULTS.suspicionQuorumMs);
});

Deno.test("retransmitLimit: mult × ceil(log10(n + 1))", () => {
  const cases: [number, number, number][] = [[4, 0, 0], [4, 1, 4], [4, 9, 4], [4, 10, 8], [
    4,
    1000,
    16,
  ], [3, 99, 6]];
  for (const [mult, n, want] of cases) assert.equal(retransmitLimit(mult, n), want, `n ${n}`);
});

Deno.test("Awareness scales timings by local health and load, and is clamped", () => {
  const a = new Awareness(8);
  assert.equal(a.scale(500), 500);
  a.apply(1);
  a.apply(1);
  assert.equal(a.score, 2);
  assert.equal(a.scale(500), 1500);
  assert.equal(a.scale(500, 0.5), 3000, "a busy node waits twice as long");
  a.apply(100);
  assert.equal(a.score, 8);
  a.apply(-100);
  assert.equal(a.score, 0);
  assert.equal(a.scale(1000, 0.1), 2000, "alpha never below 0.5");
  assert.equal(a.scale(1000, 3), 1000, "alpha never above 1");
  assert.throws(() => new Awareness(0), RangeError);
});

Deno.test("loadFactor: max(0.5, 1 - cpu/2)", () => {
  const cases: [number, number][] = [[0, 1], [0.5, 0.75], [1, 0.5], [2, 0.5], [-1, 1], [NaN, 1]];
  for (const [cpu, want] of cases) assert.equal(loadFactor(cpu), want, `cpu ${cpu}`);
});

Deno.test("classifyUpdate: SWIM's precedence as a table", () => {
  const u = (state: MemberUpdate["state"], incarnation: number) => ({ state, incarnation });
  const cases: [MemberUpdate | undefined, MemberUpdate, string][] = [
    [undefined, u("alive", 0), "new"],
    [undefined, u("suspect", 3), "new"],
    [undefined, u("dead", 3), "stale"],
    [undefined, u("left", 3), "stale"],
    [u("alive", 1), u("alive", 1), "duplicate"],
    [u("alive", 1), u("alive", 2), "changed"],
    [u("alive", 2), u("alive", 1), "stale"],
    [u("alive", 1), u("suspect", 1), "changed"],
    [u("alive", 1), u("suspect", 0), "stale"],
    [u("suspect", 1), u("suspect", 1), "confirmation"],
    [u("suspect", 1), u("alive", 1), "stale"],
    [u("suspect", 1), u("alive", 2), "changed"],
    [u("suspect", 1), u("dead", 1), "changed"],
    [u("alive", 4), u("dead", 4), "changed"],
    [u("dead", 4), u("alive", 4), "stale"],
    [u("dead", 4), u("suspect", 4), "stale"],
    [u("dead", 4), u("alive", 5), "changed"],
    [u("dead", 4), u("dead", 4), "duplicate"],
    [u("left", 4), u("dead", 4), "stale"],
    [u("dead", 4), u("left", 4), "stale"],
    [u("left", 2), u("alive", 3), "changed"],
  ];
  for (const [known, update, want] of cases) {
    assert.equal(
      classifyUpdate(known, update),
      want,
      `${JSON.stringify(known)} + ${JSON.stringify(update)}`,
    );
  }
});

Deno.test("refutation: suspect/dead claims at or above our incarnation are refuted higher", () => {
  assert.equal(refutation(3, { state: "suspect", incarnation: 3 }), 4);
  assert.equal(refutation(3, { state: "dead", incarnation: 5 }), 6);
  assert.equal(refutation(3, { state: "suspect", incarnation: 2 }), undefined, "old claim");
  assert.equal(refutation(3, { state: "alive", incarnation: 9 }), undefined);
  assert.equal(refutation(3, { state: "left", incarnation: 3 }), 4, "restarted after leaving");
});

Deno.test("BroadcastQueue: newest per key, least sent first, limited sends, byte budget", () => {
  let limit = 2;
  const q = new BroadcastQueue(() => limit);
  const b = (n: number, fill: number) => new Uint8Array(n).fill(fill);
  q.enqueue("a", b(10, 1));
  q.enqueue("b", b(10, 2));
  q.enqueue("a", b(10, 3)); // replaces the first "a"
  assert.equal(q.size, 2);
  // Budget for one (10 bytes + 2 overhead each): b came first among the unsent.
  assert.deepEqual(q.take(12, 2).map((x) => x[0]), [2]);
  // Now a (0 sends) goes before b (1 send).
  assert.deepEqual(q.take(100, 2).map((x) => x[0]), [3, 2]);
  assert.equal(q.size, 1, "b reached its limit of 2 and is gone");
  limit = 3; // a has been sent once: two more now
  assert.deepEqual(q.take(100, 2).map((x) => x[0]), [3]);
  assert.deepEqual(q.take(100, 2).map((x) => x[0]), [3]);
  assert.deepEqual(q.take(100, 2), [], "a reached the raised limit of 3");
  // A big update that does not fit is skipped, a smaller one behind it still goes.
  q.enqueue("big", b(50, 9));
  q.enqueue("small", b(5, 8));
  assert.deepEqual(q.take(20).map((x) => x[0]), [8]);
  q.drop("big");
  assert.equal(q.size, 1, "small stays until it has been sent 3 times");
});

Deno.test("ProbeOrder: every member once per round, reshuffled, joins and leaves mid-round", () => {
  const order = new ProbeOrder(seededRng(7));
  for (const m of ["a", "b", "c", "d", "e"]) order.add(m);
  const round = () => Array.from({ length: order.size }, () => order.next()!);
  const r1 = round();
  const r2 = round();
  assert.deepEqual([...r1].sort(), ["a", "b", "c", "d", "e"]);
  assert.deepEqual([...r2].sort(), ["a", "b", "c", "d", "e"]);
  assert.notDeepEqual(r1, r2, "each round is shuffled again (seed 7)");
  // Mid-round: one probed, then "f" joins and "c" leaves; the rest of the round still covers
  // every current member not probed yet, exactly once.
  const first = order.next()!;
  order.add("f");
  order.remove(first === "c" ? "d" : "c");
  const gone = first === "c" ? "d" : "c";
  const rest = Array.from({ length: order.size - 1 }, () => order.next()!);
  assert.deepEqual(
    [first, ...rest].sort(),
    ["a", "b", "c", "d", "e", "f"].filter((m) => m !== gone).sort(),
  );
  // pick: distinct, never excluded, at most what exists.
  const picked = order.pick(3, new Set(["a", "b"]));
  assert.equal(new Set(picked).size, 3);
  assert.ok(picked.every((m) => m !== "a" && m !== "b"));
  assert.equal(order.pick(10, new Set()).length, order.size);
  assert.equal(new ProbeOrder(seededRng(1)).next(), undefined);
});
