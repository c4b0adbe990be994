/**
 * Test Workers running tests/wasm/_worker.ts commands against a shared memory.
 * @module
 */
import type { SharedWasm, SharedWasmHandle } from "../../src/wasm/mod.ts";
import { waitFor } from "../_harness/wait.ts";

/** A Worker that answers one command at a time. */
export interface TestWorker {
  /** Runs `op` in the Worker on the memory of `wasm`; rejects with the Worker's error. */
  call<T>(wasm: SharedWasmHandle, op: string, args: Record<string, unknown>): Promise<T>;
  /** Terminates the Worker. */
  close(): void;
}

/** Starts `n` test Workers. */
export function startWorkers(n: number): TestWorker[] {
  return Array.from({ length: n }, () => {
    const worker = new Worker(new URL("./_worker.ts", import.meta.url), { type: "module" });
    return {
      call<T>(wasm: SharedWasmHandle, op: string, args: Record<string, unknown>): Promise<T> {
        return new Promise<T>((resolve, reject) => {
          worker.onmessage = (e) => {
            if (e.data.ok) resolve(e.data.result as T);
            else reject(new Error(`Worker ${op} failed: ${e.data.error}`));
          };
          worker.onerror = (e) => {
            e.preventDefault();
            reject(new Error(`Worker ${op} crashed: ${e.message}`));
          };
          worker.postMessage({ op, wasm, ...args });
        });
      },
      close: () => worker.terminate(),
    };
  });
}

/**
 * Runs `op` in every Worker at once: each counts itself in and waits for a start signal, which
 * is given once all are waiting, so their loops overlap.
 */
export async function runTogether<T>(
  workers: TestWorker[],
  w: SharedWasm,
  op: string,
  args: (i: number) => Record<string, unknown>,
): Promise<T[]> {
  const barrier = w.alloc(8, 4);
  const words = new Int32Array(w.handle.memory.buffer, barrier, 2);
  const results = Promise.all(
    workers.map((worker, i) => worker.call<T>(w.handle, op, { barrier, ...args(i) })),
  );
  await Promise.race([
    waitFor("the Workers to be ready", () => Atomics.load(words, 0) === workers.length),
    results,
  ]);
  Atomics.store(words, 1, 1);
  Atomics.notify(words, 1);
  return await results;
}
