// BlockPool alloc + free in one isolate (the uncontended cost of the wasm CAS loops and the
// JS → wasm calls), against a plain JS array used as a free list (not shareable; a floor).
// Each bench does 1000 alloc+free pairs per iteration, so µs/iter = ns per pair.
//
//   deno bench --allow-all bench/pool_bench.ts
import { BlockPool, SharedWasm } from "../src/wasm/mod.ts";

const OPS = 1000;
const pool = BlockPool.create(SharedWasm.create({ initialPages: 128 }), 4096, 1024);
const held = new Int32Array(8);

Deno.bench(
  `BlockPool alloc+free, 4 KiB blocks (×${OPS})`,
  { group: "pool", baseline: true },
  () => {
    for (let i = 0; i < OPS; i += 8) {
      for (let k = 0; k < 8; k++) held[k] = pool.alloc();
      for (let k = 0; k < 8; k++) pool.free(held[k]);
    }
  },
);

const free = Array.from({ length: 1024 }, (_, i) => i * 4096);
Deno.bench(`JS array free list pop+push (×${OPS})`, { group: "pool" }, () => {
  for (let i = 0; i < OPS; i += 8) {
    for (let k = 0; k < 8; k++) held[k] = free.pop()!;
    for (let k = 0; k < 8; k++) free.push(held[k]);
  }
});
