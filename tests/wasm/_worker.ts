// Test Worker: attaches to a SharedWasm and runs one command per message (see _workers.ts).
/// <reference lib="deno.worker" />
import {
  BlockPool,
  Ring,
  SharedWasm,
  type SharedWasmHandle,
  StatsBlock,
} from "../../src/wasm/mod.ts";
import { mismatch, record } from "./_records.ts";

interface Msg {
  op: string;
  wasm: SharedWasmHandle;
  [k: string]: unknown;
}

/** Milliseconds left until `deadline` (performance.now() based); throws when none. */
function left(deadline: number, what: string): number {
  const ms = deadline - performance.now();
  if (ms <= 0) throw new Error(`Timed out ${what}`);
  return ms;
}

/** Counts this Worker in at `barrier[0]` and waits for the start signal at `barrier[1]`. */
function start(w: SharedWasm, barrier: number): void {
  const words = new Int32Array(w.handle.memory.buffer, barrier, 2);
  Atomics.add(words, 0, 1);
  if (Atomics.wait(words, 1, 0, 5000) === "timed-out") throw new Error("No start signal");
}

const ops: Record<string, (m: Msg, w: SharedWasm) => unknown> = {
  produce(m, w) {
    const ring = Ring.attach(w, m.ring as number);
    const sizes = m.sizes as number[];
    const deadline = performance.now() + (m.timeoutMs as number);
    for (let i = 0; i < sizes.length; i++) {
      const r = record(m.seed as number, i, sizes[i]);
      while (!ring.push(r.type, r.payload, r.version)) {
        ring.waitWritable(sizes[i], left(deadline, `pushing record ${i}`));
      }
    }
    return sizes.length;
  },

  consume(m, w) {
    const ring = Ring.attach(w, m.ring as number);
    const sizes = m.sizes as number[];
    const deadline = performance.now() + (m.timeoutMs as number);
    for (let i = 0; i < sizes.length; i++) {
      let rec = ring.pop();
      while (rec === null) {
        ring.wait(left(deadline, `waiting for record ${i} of ${sizes.length}`));
        rec = ring.pop();
      }
      const bad = mismatch(m.seed as number, i, sizes[i], rec);
      if (bad) throw new Error(bad);
    }
    return { count: sizes.length, left: ring.used };
  },

  pool(m, w) {
    const pool = BlockPool.attach(w, m.pool as number);
    const owners = new Int32Array(w.handle.memory.buffer, m.owners as number, pool.blocks);
    const id = m.id as number;
    const held: number[] = [];
    start(w, m.barrier as number);
    let allocs = 0;
    let exhausted = 0;
    for (let round = 0; round < (m.rounds as number); round++) {
      for (let k = 0; k < (m.hold as number); k++) {
        const b = pool.alloc();
        if (b === -1) {
          exhausted++;
          continue;
        }
        const idx = (b - (m.data as number)) / pool.blockSize;
        const prev = Atomics.compareExchange(owners, idx, 0, id);
        if (prev !== 0) throw new Error(`Block ${b} handed to worker ${id} while ${prev} holds it`);
        new DataView(pool.view(b).buffer, b).setUint32(0, id * 1_000_000 + round);
        held.push(b);
        allocs++;
      }
      for (const b of held) {
        const stamp = new DataView(pool.view(b).buffer, b).getUint32(0);
        if (stamp !== id * 1_000_000 + round) throw new Error(`Block ${b} overwritten: ${stamp}`);
        Atomics.store(owners, (b - (m.data as number)) / pool.blockSize, 0);
        pool.free(b);
      }
      held.length = 0;
    }
    return { allocs, exhausted };
  },

  attached(m, w) {
    let alloc = "allowed";
    try {
      w.alloc(8);
    } catch (err) {
      alloc = String(err);
    }
    const ring = Ring.attach(w, m.ring as number);
    const stats = StatsBlock.attach(w, m.stats as number);
    stats.set(stats.series("from-worker", 2) + 1, 7);
    return { pushed: Number(ring.push(1, new Uint8Array([42]))), alloc };
  },

  stats(m, w) {
    const stats = StatsBlock.attach(w, m.stats as number);
    start(w, m.barrier as number);
    const keys = m.keys as string[];
    const cells: Record<string, number> = {};
    for (const key of keys) cells[key] = stats.series(key, 1 + (key.length % 3));
    for (let rep = 0; rep < (m.reps as number); rep++) {
      for (const key of keys) {
        stats.add(cells[key] + (rep % (1 + (key.length % 3))), m.delta as number);
      }
    }
    return cells;
  },
};

self.onmessage = (e: MessageEvent<Msg>) => {
  try {
    const w = SharedWasm.attach(e.data.wasm);
    self.postMessage({ ok: true, result: ops[e.data.op](e.data, w) });
  } catch (err) {
    self.postMessage({
      ok: false,
      error: err instanceof Error ? err.stack ?? err.message : String(err),
    });
  }
};
