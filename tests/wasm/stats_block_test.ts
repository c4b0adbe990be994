import assert from "node:assert/strict";
import { SharedWasm, StatsBlock } from "../../src/wasm/mod.ts";
import { runTogether, startWorkers } from "./_workers.ts";

const sizes = { maxSeries: 64, maxCells: 256, keyBytes: 4096 };

Deno.test("StatsBlock gives one run of cells per key and lists them in creation order", () => {
  const stats = StatsBlock.create(SharedWasm.create(), sizes);
  const a = stats.series("requests_total\u0000GET\u0000200", 1);
  const b = stats.series("latency_seconds\u0000api", 12);
  const c = stats.series("", 2);
  const d = stats.series("ünïcødé ✓", 1);
  assert.equal(stats.series("requests_total\u0000GET\u0000200", 1), a);
  assert.equal(stats.series("latency_seconds\u0000api", 12), b);
  assert.deepEqual([a, b, c, d], [0, 1, 13, 15]);
  assert.equal(stats.count, 4);
  assert.deepEqual(
    Array.from({ length: stats.count }, (_, i) => stats.entry(i)),
    [
      { key: "requests_total\u0000GET\u0000200", cell: 0, size: 1 },
      { key: "latency_seconds\u0000api", cell: 1, size: 12 },
      { key: "", cell: 13, size: 2 },
      { key: "ünïcødé ✓", cell: 15, size: 1 },
    ],
  );
  assert.throws(() => stats.entry(4), /integer from 0 to 3, got 4/);
  assert.throws(() => stats.series("latency_seconds\u0000api", 3), /has 12 cells, asked for 3/);
  assert.throws(() => stats.series("x", 0), /integer size ≥ 1/);
});

Deno.test("StatsBlock cells add, set and get f64 values", () => {
  const stats = StatsBlock.create(SharedWasm.create(), sizes);
  const cell = stats.series("h", 3);
  assert.equal(stats.get(cell), 0);
  stats.add(cell, 1.25);
  stats.add(cell, -0.5);
  stats.set(cell + 1, 1e300);
  stats.add(cell + 2, NaN);
  assert.equal(stats.get(cell), 0.75);
  assert.equal(stats.get(cell + 1), 1e300);
  assert.ok(Number.isNaN(stats.get(cell + 2)));
  for (const bad of [-1, 256, 1.5, NaN]) {
    assert.throws(() => stats.add(bad, 1), /Cell index must be an integer from 0 to 255/);
  }
});

Deno.test("StatsBlock full: each limit throws a RangeError naming the option to raise", () => {
  const w = SharedWasm.create();
  const cells = StatsBlock.create(w, { maxSeries: 8, maxCells: 4, keyBytes: 100 });
  cells.series("a", 3);
  assert.throws(() => cells.series("b", 2), (e: Error) =>
    e instanceof RangeError &&
    e.message ===
      'Stats block is full: no room for the cells of series "b" (maxCells is 4): raise maxCells ' +
        "in StatsBlock.create");
  assert.equal(cells.series("c", 1), 3, "a failed creation leaves room for smaller ones");

  const series = StatsBlock.create(w, { maxSeries: 2, maxCells: 100, keyBytes: 100 });
  series.series("a", 1);
  series.series("b", 1);
  assert.throws(
    () => series.series("c", 1),
    /the series of series "c" \(maxSeries is 2\): raise maxSeries/,
  );
  assert.equal(series.series("a", 1), 0, "existing keys still resolve");

  const keys = StatsBlock.create(w, { maxSeries: 8, maxCells: 100, keyBytes: 5 });
  keys.series("abc", 1);
  assert.throws(
    () => keys.series("def", 1),
    /key bytes of series "def" \(keyBytes is 5\): raise keyBytes/,
  );
  assert.equal(keys.count, 1);
  assert.deepEqual(keys.entry(0), { key: "abc", cell: 0, size: 1 });
});

Deno.test("StatsBlock.create and attach validate their arguments", () => {
  const w = SharedWasm.create();
  assert.throws(
    () => StatsBlock.create(w, { ...sizes, maxSeries: 0 }),
    /maxSeries must be an integer/,
  );
  assert.throws(() => StatsBlock.create(w, { ...sizes, maxCells: 1.5 }), /maxCells must be/);
  assert.throws(() => StatsBlock.create(w, { ...sizes, keyBytes: -1 }), /keyBytes must be/);
  const stats = StatsBlock.create(w, sizes);
  assert.throws(() => StatsBlock.attach(w, stats.addr + 64), /No StatsBlock at address/);
  const again = StatsBlock.attach(w, stats.addr);
  const cell = stats.series("k", 1);
  stats.add(cell, 5);
  assert.equal(again.series("k", 1), cell);
  assert.equal(again.get(cell), 5);
});

Deno.test("StatsBlock: Workers racing on the same keys get one series each, and adds sum exactly", async () => {
  const workers = startWorkers(3);
  const w = SharedWasm.create();
  try {
    for (let round = 0; round < 5; round++) {
      const stats = StatsBlock.create(w, { maxSeries: 1024, maxCells: 4096, keyBytes: 1 << 16 });
      const keys = Array.from({ length: 1000 }, (_, i) => `metric_${i % 7}\u0000route\u0000${i}`);
      const reps = 100;
      // All Workers walk the keys in the same order, so they race to create every one of them.
      const cells = await runTogether<Record<string, number>>(
        workers,
        w,
        "stats",
        (i) => ({ stats: stats.addr, keys, reps, delta: i + 1 }),
      );
      for (const key of keys) {
        assert.equal(cells[1][key], cells[0][key], key);
        assert.equal(cells[2][key], cells[0][key], key);
      }
      assert.equal(stats.count, keys.length);
      const entries = Array.from({ length: stats.count }, (_, i) => stats.entry(i));
      assert.deepEqual(entries.map((e) => e.key).sort(), [...keys].sort());
      const covered = new Set<number>();
      for (const e of entries) {
        assert.equal(e.cell, cells[0][e.key]);
        assert.equal(e.size, 1 + (e.key.length % 3));
        for (let c = e.cell; c < e.cell + e.size; c++) {
          assert.ok(!covered.has(c), `cell ${c} belongs to two series`);
          covered.add(c);
        }
      }
      // Worker i adds i + 1 to cell (rep % size) of every key, `reps` times.
      for (const e of entries) {
        for (let k = 0; k < e.size; k++) {
          const hits = Math.ceil((reps - k) / e.size);
          assert.equal(stats.get(e.cell + k), hits * (1 + 2 + 3), `${e.key} cell ${k}`);
        }
      }
    }
  } finally {
    for (const worker of workers) worker.close();
  }
});
