/**
 * CRC-32 throughput per input size: a TypeScript table implementation (slicing-by-8, below),
 * the WebAssembly kernels of wasm/crc32.ts on bytes already in the module's memory, the same
 * kernel with the copy from JS memory that src/wasm/crc32.ts has to make first, node:zlib's
 * native crc32, and the wrapper `crc32` itself. Groups "crossover N B" repeat that on short
 * inputs: they give the wrapper's WASM_MAX_LEN (copy + wasm vs zlib) and crc32_update's
 * SIMD_MIN_LEN (wasm slicing-by-8 vs wasm SIMD).
 *
 * Every iteration hashes 1 MiB in total (1 MiB / size calls), so GB/s = 1048576 / (ns per
 * iteration), and ns per call = ns per iteration × size / 1048576:
 *
 * ```
 * deno bench --allow-all bench/crc32_bench.ts
 * deno bench --allow-all --json bench/crc32_bench.ts | jq -r '.benches[] |
 *   "\(.group)\t\(.name)\t\(1048576 / .results[0].ok.avg * 100 | round / 100) GB/s"'
 * ```
 * @module
 */
import { crc32 as zlibCrc32 } from "node:zlib";
import { crc32 } from "../src/wasm/crc32.ts";
import { internals } from "../src/wasm/_internal.ts";
import { SharedWasm } from "../src/wasm/shared_wasm.ts";

type Kernel = (crc: number, ptr: number, len: number) => number;

const TOTAL = 1 << 20;
const wasm = SharedWasm.create();
const exports = wasm[internals].exports as unknown as Record<string, Kernel>;
const slice8 = exports.crc32_slice8;
const simd = exports.crc32_simd;
const update = exports.crc32_update;
/** The input, once in JS memory and once in the module's memory. */
const input = new Uint8Array(TOTAL);
crypto.getRandomValues(input.subarray(0, 65536));
for (let i = 65536; i < TOTAL; i += 65536) input.copyWithin(i, 0, 65536);
const inWasm = wasm.alloc(TOTAL, 64);
const scratch = wasm.alloc(TOTAL, 64);
const mem = wasm[internals].views(scratch + TOTAL).u8;
mem.set(input, inWasm);

/** Slicing-by-8 in plain TypeScript: eight 256-entry tables, one byte lookup per table. */
const TABLES = new Int32Array(8 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLES[n] = c;
}
for (let i = 256; i < 8 * 256; i++) {
  const prev = TABLES[i - 256];
  TABLES[i] = (prev >>> 8) ^ TABLES[prev & 0xff];
}

function tsCrc32(data: Uint8Array, seed: number): number {
  const t = TABLES;
  let c = ~seed;
  let i = 0;
  for (const end8 = data.length - 7; i < end8; i += 8) {
    const a = c ^ (data[i] | data[i + 1] << 8 | data[i + 2] << 16 | data[i + 3] << 24);
    c = t[1792 + (a & 0xff)] ^ t[1536 + ((a >>> 8) & 0xff)] ^ t[1280 + ((a >>> 16) & 0xff)] ^
      t[1024 + (a >>> 24)] ^ t[768 + data[i + 4]] ^ t[512 + data[i + 5]] ^ t[256 + data[i + 6]] ^
      t[data[i + 7]];
  }
  for (; i < data.length; i++) c = (c >>> 8) ^ t[(c ^ data[i]) & 0xff];
  return ~c >>> 0;
}

if (tsCrc32(input, 7) !== zlibCrc32(input, 7)) throw new Error("tsCrc32 disagrees with zlib");

/** The wrapper's wasm path, whatever the length: copy into the module's memory, then hash. */
function wasmWithCopy(data: Uint8Array, seed: number): number {
  mem.set(data, scratch);
  return update(seed, scratch, data.length) >>> 0;
}

let sink = 0;

/** Registers `name` in `group`: hashes 1 MiB per iteration as TOTAL / size calls. */
function bench(group: string, name: string, size: number, one: (at: number) => number): void {
  const calls = TOTAL / size;
  Deno.bench({
    group,
    name,
    baseline: name === "node:zlib crc32",
    fn() {
      let c = 0;
      for (let i = 0; i < calls; i++) c ^= one(i * size);
      sink ^= c;
    },
  });
}

function label(size: number): string {
  return size >= TOTAL ? "1 MiB" : size >= 1024 ? `${size / 1024} KiB` : `${size} B`;
}

const SIZES = [64, 1024, 16384, TOTAL];
const CROSSOVER = [16, 32, 64, 96, 112, 128, 160, 192, 256];

for (
  const [size, group] of [
    ...SIZES.map((n) => [n, label(n)] as const),
    ...CROSSOVER.map((n) => [n, `crossover ${label(n)}`] as const),
  ]
) {
  const view = (at: number) => input.subarray(at, at + size);
  bench(group, "TS table (slicing-by-8)", size, (at) => tsCrc32(view(at), 0));
  bench(group, "wasm slicing-by-8", size, (at) => slice8(0, inWasm + at, size));
  bench(group, "wasm SIMD", size, (at) => simd(0, inWasm + at, size));
  bench(group, "wasm crc32_update + copy", size, (at) => wasmWithCopy(view(at), 0));
  bench(group, "node:zlib crc32", size, (at) => zlibCrc32(view(at), 0));
  bench(group, "crc32 (wrapper)", size, (at) => crc32(view(at), 0));
}

globalThis.addEventListener("unload", () => {
  if (sink === 0.5) console.log(sink); // keeps the results alive for the optimizer
});
