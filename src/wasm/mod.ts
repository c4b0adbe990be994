/**
 * The typed wrapper over skiff's WebAssembly module (src/wasm/_gen/, built from wasm/): the
 * only way the rest of skiff touches it. One shared memory, instantiated in the main isolate
 * and in every Worker, holds single-producer single-consumer rings, a block pool and a stats
 * block at explicit addresses; see wasm/README.md for layouts and protocols.
 * @module
 */
export { SharedWasm, type SharedWasmHandle, type SharedWasmOptions } from "./shared_wasm.ts";
export { Ring, type RingRecord } from "./ring.ts";
export { RingCorruptError } from "./ring_corrupt_error.ts";
export { BlockPool } from "./block_pool.ts";
export { StatsBlock, type StatsBlockOptions, type StatsEntry } from "./stats_block.ts";
export { crc32 } from "./crc32.ts";
