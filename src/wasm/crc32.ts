import { crc32 as zlibCrc32 } from "node:zlib";
import { internals } from "./_internal.ts";
import { SharedWasm } from "./shared_wasm.ts";

/**
 * Longest input that goes through the WebAssembly kernel; longer ones go to node:zlib's native
 * crc32. The wasm path first copies the bytes into the module's memory. Up to 128 bytes, copy plus
 * kernel still costs less than zlib's flat ≈ 80 ns per call; they tie at 160 and zlib wins from
 * 192 on. Measured with `deno bench --allow-all bench/crc32_bench.ts`, groups "crossover N B";
 * the figures are in the CRC32 section of wasm/README.md.
 */
const WASM_MAX_LEN = 128;

/** The crc32 exports of wasm/crc32.ts (not in `WasmExports`, which covers the structures). */
interface Crc32Exports {
  crc32_update(crc: number, ptr: number, len: number): number;
}

/** This isolate's private instance: a scratch area in its own small shared memory. */
interface Kernel {
  update: (crc: number, ptr: number, len: number) => number;
  u8: Uint8Array;
  scratch: number;
}

let kernel: Kernel | undefined;

function createKernel(): Kernel {
  // A private SharedWasm per isolate: its scratch area cannot race with another Worker's.
  const wasm = SharedWasm.create({ initialPages: 1, maximumPages: 16 });
  const scratch = wasm.alloc(WASM_MAX_LEN, 64);
  const { exports, views } = wasm[internals];
  const { crc32_update } = exports as unknown as Crc32Exports;
  return { update: crc32_update, u8: views(scratch + WASM_MAX_LEN).u8, scratch };
}

/**
 * CRC-32 (IEEE 802.3, the same value as zlib's `crc32`) of `data`. Picks the WebAssembly kernel
 * or node:zlib's native crc32 by length, at the crossover measured by bench/crc32_bench.ts.
 *
 * @param data the bytes
 * @param seed a previous result to continue from (default 0, a fresh CRC)
 * @returns the CRC as an unsigned 32-bit integer
 * @throws {RangeError} when `seed` is not an integer in 0 .. 2^32-1
 *
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode("123456789");
 * crc32(bytes); // 0xcbf43926
 * crc32(bytes.subarray(4), crc32(bytes.subarray(0, 4))); // the same
 * ```
 */
export function crc32(data: Uint8Array, seed = 0): number {
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) {
    throw new RangeError(
      `crc32 seed must be an integer from 0 to 4294967295 (a previous crc32 result), got ${seed}`,
    );
  }
  const len = data.length;
  if (len > WASM_MAX_LEN) return zlibCrc32(data, seed);
  const k = kernel ??= createKernel();
  k.u8.set(data, k.scratch);
  return k.update(seed, k.scratch, len) >>> 0;
}
