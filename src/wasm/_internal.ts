/**
 * What the wrappers in this folder share and nothing else sees: the module's exports, typed,
 * and views of the shared memory.
 * @module
 */

/** Layout version the wrappers expect from `abi_version()` in wasm/index.ts. */
export const ABI_VERSION = 1;

/** The exports of wasm/index.ts (addresses and sizes are plain numbers). */
export interface WasmExports {
  abi_version(): number;
  heap_base(): number;
  ring_init(ring: number, capacity: number): void;
  ring_valid(ring: number): number;
  ring_reserve(ring: number, length: number): number;
  ring_commit(ring: number, typeVersion: number, length: number): void;
  ring_peek(ring: number): number;
  ring_advance(ring: number): number;
  pool_init(pool: number, blockSize: number, blocks: number, data: number): void;
  pool_valid(pool: number): number;
  pool_alloc(pool: number): number;
  pool_free(pool: number, block: number): number;
  stats_init(stats: number): void;
  stats_valid(stats: number): number;
  stats_probe(stats: number, hi: number, lo: number, from: number, limit: number): number;
  stats_take(counter: number, n: number, limit: number): number;
  stats_publish(stats: number, slot: number, index: number, size: number): void;
  stats_fail(stats: number, slot: number): void;
  stats_add(cell: number, delta: number): void;
  stats_set(cell: number, value: number): void;
  stats_get(cell: number): number;
}

/** Views of the shared memory, long enough for the structure that asked for them. */
export interface Views {
  u8: Uint8Array;
  u32: Uint32Array;
  i32: Int32Array;
}

/** The per-instance internals of a `SharedWasm`. */
export interface Internals {
  exports: WasmExports;
  /**
   * Views covering at least `[0, end)`. They stay valid for that range forever: the memory only
   * grows, and a grown memory keeps the old bytes where they were.
   * @throws {RangeError} when `end` lies beyond the memory
   */
  views(end: number): Views;
}

/** Key of a `SharedWasm`'s internals (not exported from mod.ts). */
export const internals: unique symbol = Symbol("skiff.wasm.internals");

/** Rounds `n` up to a multiple of `align` (a power of two). */
export function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

/**
 * Throws a RangeError unless `addr` is a 64-byte aligned address with `header` bytes of memory
 * after it (checked before the module reads there, which would trap).
 */
export function checkAddress(
  w: { [internals]: Internals },
  what: string,
  addr: number,
  header: number,
  valid?: (addr: number) => number,
): void {
  if (!Number.isInteger(addr) || addr <= 0 || addr % 64 !== 0) {
    throw new RangeError(
      `${what} address must be the positive multiple of 64 that ${what}.create() returned as ` +
        `\`addr\`, got ${addr}`,
    );
  }
  w[internals].views(addr + header);
  if (valid && !valid(addr)) {
    throw new RangeError(
      `No ${what} at address ${addr}: pass the \`addr\` of a ${what} created on this shared ` +
        "memory",
    );
  }
}
