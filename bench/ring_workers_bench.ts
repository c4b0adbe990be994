// Cross-Worker throughput of 1 KiB records: a producer Worker pushes, a consumer Worker pops,
// both block (Atomics.wait) when the ring is full or empty. skiff's wasm `Ring` vs the
// plain-TypeScript `TsRing` of bench/ring_bench.ts. Each iteration moves 16 MiB of payload
// (16384 records); only the transfer is timed (Worker start-up is not), so
// MB/s = 16.78 / (ms/iter) × 1000.
//
//   deno bench --allow-all bench/ring_workers_bench.ts
//
// This file is also the Workers' script.
import { Ring, SharedWasm, type SharedWasmHandle } from "../src/wasm/mod.ts";
import { TsRing } from "./ring_bench.ts";

const RECORDS = 16384;
const SIZE = 1024;
const RING_BYTES = 1 << 18;

interface Job {
  role: "produce" | "consume";
  wasm?: { handle: SharedWasmHandle; ring: number };
  ts?: SharedArrayBuffer;
  go: SharedArrayBuffer;
}

/** What both rings offer the Workers. */
interface AnyRing {
  push(type: number, payload: Uint8Array): boolean;
  pop(): { payload: Uint8Array } | null;
  wait(ms: number): boolean;
  waitWritable(n: number, ms: number): void;
}

function work(job: Job): number {
  let ring: AnyRing;
  if (job.wasm) {
    const r = Ring.attach(SharedWasm.attach(job.wasm.handle), job.wasm.ring);
    ring = {
      push: (t, p) => r.push(t, p),
      pop: () => r.pop(),
      wait: (ms) => r.wait(ms),
      waitWritable: (n, ms) => void r.waitWritable(n, ms),
    };
  } else {
    ring = new TsRing(job.ts!);
  }
  const go = new Int32Array(job.go);
  scope.postMessage("ready");
  Atomics.wait(go, 0, 0, 10_000);
  let bytes = 0;
  if (job.role === "produce") {
    const payload = new Uint8Array(SIZE).fill(7);
    for (let i = 0; i < RECORDS; i++) {
      while (!ring.push(1, payload)) ring.waitWritable(SIZE, 1000);
    }
  } else {
    for (let i = 0; i < RECORDS; i++) {
      let rec = ring.pop();
      while (rec === null) {
        ring.wait(1000);
        rec = ring.pop();
      }
      bytes += rec.payload.length;
    }
  }
  return bytes;
}

function start(job: Omit<Job, "role" | "go">, b: Deno.BenchContext): Promise<void> {
  const go = new SharedArrayBuffer(4);
  const workers = ["produce", "consume"].map((role) => {
    const worker = new Worker(import.meta.url, { type: "module" });
    const ready = new Promise<void>((resolve) => (worker.onmessage = () => resolve()));
    const done = ready.then(() =>
      new Promise<number>((resolve) => (worker.onmessage = (e) => resolve(e.data)))
    );
    worker.postMessage({ ...job, role, go });
    return { worker, ready, done };
  });
  return Promise.all(workers.map((w) => w.ready)).then(async () => {
    b.start();
    Atomics.store(new Int32Array(go), 0, 1);
    Atomics.notify(new Int32Array(go), 0);
    const [, consumed] = await Promise.all(workers.map((w) => w.done));
    b.end();
    for (const w of workers) w.worker.terminate();
    if (consumed !== RECORDS * SIZE) throw new Error(`consumed ${consumed} bytes`);
  });
}

/** `self` in the Workers (this file is checked with the main-thread types). */
const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<Job>) => void) | null;
  postMessage(message: unknown): void;
};

if ("WorkerGlobalScope" in globalThis) {
  scope.onmessage = (e) => scope.postMessage(work(e.data));
} else if (Deno.mainModule === import.meta.url) {
  const wasm = SharedWasm.create({ initialPages: 16 });
  const opts = { group: "1 KiB records across Workers", n: 8, warmup: 1 };
  Deno.bench(`wasm Ring, 16 MiB per iteration`, { ...opts, baseline: true }, async (b) => {
    const ring = Ring.create(wasm, RING_BYTES);
    await start({ wasm: { handle: wasm.handle, ring: ring.addr } }, b);
  });
  Deno.bench(`plain-TS SAB ring, 16 MiB per iteration`, opts, async (b) => {
    await start({ ts: TsRing.create(RING_BYTES).sab }, b);
  });
}
