import assert from "node:assert/strict";
import { Ring, SharedWasm, StatsBlock } from "../../src/wasm/mod.ts";
import { startWorkers } from "./_workers.ts";

Deno.test("SharedWasm.alloc hands out aligned, disjoint, zeroed ranges above static data", () => {
  const w = SharedWasm.create({ initialPages: 1, maximumPages: 4 });
  const a = w.alloc(10);
  const b = w.alloc(1, 64);
  const c = w.alloc(0, 8);
  const d = w.alloc(100);
  assert.equal(a % 16, 0);
  assert.equal(b % 64, 0);
  assert.ok(a >= 1024 && b >= a + 10 && c >= b + 1 && d >= c, `${a} ${b} ${c} ${d}`);
  assert.ok(new Uint8Array(w.handle.memory.buffer, a, 200).every((x) => x === 0));
  assert.throws(() => w.alloc(-1), /byte count ≥ 0 and a power-of-two alignment/);
  assert.throws(() => w.alloc(8, 3), /power-of-two alignment, got 8 and 3/);
});

Deno.test("SharedWasm.alloc grows the memory, up to maximumPages", () => {
  const w = SharedWasm.create({ initialPages: 1, maximumPages: 3 });
  const big = w.alloc(100_000);
  assert.ok(w.handle.memory.buffer.byteLength >= big + 100_000);
  const ring = Ring.create(w, 4096); // placed in grown memory
  assert.ok(ring.push(1, new Uint8Array([1])));
  assert.throws(() => w.alloc(200_000), /cannot grow by \d+ pages .*: raise maximumPages/);
});

Deno.test("SharedWasm.create validates page counts", () => {
  for (
    const opts of [{ initialPages: 0 }, { initialPages: 8, maximumPages: 4 }, {
      maximumPages: 32769,
    }]
  ) {
    assert.throws(() => SharedWasm.create(opts), /1 ≤ initialPages ≤ maximumPages ≤ 32768/);
  }
});

Deno.test("SharedWasm.attach refuses what is not a handle", () => {
  const w = SharedWasm.create();
  const notShared = new WebAssembly.Memory({ initial: 1 });
  for (const bad of [null, {}, { module: w.handle.module, memory: notShared }]) {
    assert.throws(
      () => SharedWasm.attach(bad as never),
      /post `wasm.handle` to the Worker unchanged/,
    );
  }
});

Deno.test("SharedWasm: an attached instance sees the structures and may not allocate", async () => {
  const [worker] = startWorkers(1);
  const w = SharedWasm.create();
  try {
    const ring = Ring.create(w, 1024);
    const stats = StatsBlock.create(w, { maxSeries: 4, maxCells: 4, keyBytes: 64 });
    const got = await worker.call<{ pushed: number; alloc: string }>(w.handle, "attached", {
      ring: ring.addr,
      stats: stats.addr,
    });
    assert.match(got.alloc, /Only the isolate that called SharedWasm.create can allocate/);
    assert.deepEqual(ring.pop()?.payload, new Uint8Array([42]));
    assert.equal(stats.get(stats.series("from-worker", 2) + 1), 7);
  } finally {
    worker.close();
  }
});

Deno.test("SharedWasm: instantiating again (as every Worker does) leaves structures intact", () => {
  const w = SharedWasm.create();
  const ring = Ring.create(w, 256);
  const stats = StatsBlock.create(w, { maxSeries: 4, maxCells: 4, keyBytes: 64 });
  ring.push(9, new Uint8Array([1, 2, 3]));
  stats.set(stats.series("k", 1), 3);
  // A new instance rewrites the module's static data (its CRC tables) in the shared memory.
  const again = SharedWasm.attach(w.handle);
  assert.deepEqual(Ring.attach(again, ring.addr).pop(), {
    type: 9,
    version: 0,
    payload: new Uint8Array([1, 2, 3]),
  });
  assert.equal(StatsBlock.attach(again, stats.addr).get(0), 3);
});
