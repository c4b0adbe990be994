import { alignUp, checkAddress, internals, type Views, type WasmExports } from "./_internal.ts";
import type { SharedWasm } from "./shared_wasm.ts";

// Header offsets; keep in step with wasm/pool.ts.
const AVAILABLE = 8;
const EXHAUSTIONS = 12;
const BLOCK_SIZE = 20;
const BLOCKS = 24;
const DATA = 28;
const LINKS = 64;
const MAX_BLOCKS = 2 ** 24;
const MAX_BLOCK_SIZE = 2 ** 26;

/**
 * Fixed-size blocks with a lock-free free list (ABA-safe tagged head), safe across Workers:
 * any isolate attached to the memory may `alloc` and `free`. Blocks are 64-byte aligned when
 * the block size is a multiple of 64.
 *
 * @example
 * ```ts
 * const pool = BlockPool.create(wasm, 4096, 256);
 * const block = pool.alloc(); // -1 when all 256 are taken
 * pool.view(block).set(bytes);
 * pool.free(block);
 * ```
 */
export class BlockPool {
  /** Address of the pool in the shared memory (post it to Workers). */
  readonly addr: number;
  /** Bytes per block. */
  readonly blockSize: number;
  /** Number of blocks. */
  readonly blocks: number;
  #ex: WasmExports;
  #v: Views;
  #data: number;

  /**
   * Places a pool of `blocks` free blocks of `blockSize` bytes in `w`'s memory. Creating
   * isolate only.
   * @param blockSize bytes per block: a multiple of 8 from 8 to 2^26
   * @param blocks how many: 1 to 2^24
   * @throws {RangeError} for other sizes or counts
   */
  static create(w: SharedWasm, blockSize: number, blocks: number): BlockPool {
    if (
      !Number.isInteger(blockSize) || blockSize < 8 || blockSize > MAX_BLOCK_SIZE ||
      blockSize % 8 !== 0 || !Number.isInteger(blocks) || blocks < 1 || blocks > MAX_BLOCKS
    ) {
      throw new RangeError(
        "BlockPool needs a block size that is a multiple of 8 from 8 to 2^26 and 1 to 2^24 " +
          `blocks, got blockSize ${blockSize} and blocks ${blocks}`,
      );
    }
    const header = alignUp(LINKS + 4 * blocks, 64);
    const addr = w.alloc(header + blockSize * blocks, 64);
    w[internals].exports.pool_init(addr, blockSize, blocks, addr + header);
    return new BlockPool(w, addr);
  }

  /**
   * The pool at `addr` (from `pool.addr` in the creating isolate), e.g. inside a Worker.
   * @throws {RangeError} when no pool lives at `addr`
   */
  static attach(w: SharedWasm, addr: number): BlockPool {
    checkAddress(w, "BlockPool", addr, LINKS, w[internals].exports.pool_valid);
    return new BlockPool(w, addr);
  }

  private constructor(w: SharedWasm, addr: number) {
    const { exports, views } = w[internals];
    const u32 = views(addr + LINKS).u32;
    this.addr = addr;
    this.blockSize = u32[(addr + BLOCK_SIZE) >> 2];
    this.blocks = u32[(addr + BLOCKS) >> 2];
    this.#data = u32[(addr + DATA) >> 2];
    this.#ex = exports;
    this.#v = views(this.#data + this.blockSize * this.blocks);
  }

  /** A free block's address, or -1 when exhausted (also counted in `exhaustions`). */
  alloc(): number {
    return this.#ex.pool_alloc(this.addr);
  }

  /**
   * Returns a block to the pool.
   * @param block an address `alloc()` returned
   * @throws {RangeError} for an address that is not a block of this pool, or a block that is
   *   already free (double free)
   */
  free(block: number): void {
    const status = (block >>> 0) === block ? this.#ex.pool_free(this.addr, block) : 1;
    if (status === 0) return;
    throw new RangeError(
      status === 1
        ? `Address ${block} is not a block of this pool (${this.blocks} blocks of ` +
          `${this.blockSize} bytes from ${this.#data}): free only what alloc() returned`
        : `Block ${block} is already free: free each block alloc() returned exactly once`,
    );
  }

  /**
   * A view of one block's bytes (shared memory: other isolates see writes at once).
   * @throws {RangeError} for an address that is not a block of this pool
   */
  view(block: number): Uint8Array {
    const rel = block - this.#data;
    if (
      !Number.isInteger(rel) || rel < 0 || rel % this.blockSize ||
      rel / this.blockSize >= this.blocks
    ) {
      throw new RangeError(
        `Address ${block} is not a block of this pool: pass an address alloc() returned`,
      );
    }
    return this.#v.u8.subarray(block, block + this.blockSize);
  }

  /** Free blocks now (a snapshot while other isolates allocate). */
  get available(): number {
    return Atomics.load(this.#v.u32, (this.addr + AVAILABLE) >> 2);
  }

  /** How many `alloc()` calls found the pool empty, in every isolate, since creation. */
  get exhaustions(): number {
    return Atomics.load(this.#v.u32, (this.addr + EXHAUSTIONS) >> 2);
  }
}
