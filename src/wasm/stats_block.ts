import { alignUp, checkAddress, internals, type Views, type WasmExports } from "./_internal.ts";
import { keyHash64 } from "./_key_hash.ts";
import type { SharedWasm } from "./shared_wasm.ts";

// Header offsets (u32 fields); keep in step with wasm/stats.ts.
const H = {
  maxSeries: 4,
  maxCells: 8,
  keyBytes: 12,
  slots: 16,
  count: 20,
  claimed: 24,
  cellsUsed: 28,
  keysUsed: 32,
  dir: 36,
  entries: 40,
  cells: 44,
  keys: 48,
} as const;
const HEADER = 64;
const SLOT = 16;
const ENTRY = 16;
const LIMIT = 2 ** 24;
/** How long `series` waits for another isolate that is creating the same key. */
const CREATING_WAIT_MS = 1000;

/** Sizes of a `StatsBlock`. */
export interface StatsBlockOptions {
  /** Most series (distinct keys), 1 to 2^24. */
  maxSeries: number;
  /** Most f64 cells over all series, 1 to 2^24. */
  maxCells: number;
  /** Bytes for all keys together (UTF-8), 0 to 2^24 × 64. */
  keyBytes: number;
}

/** One series of a `StatsBlock`, as `entry()` lists it. */
export interface StatsEntry {
  /** The key given to `series()`. */
  key: string;
  /** Index of the series' first cell. */
  cell: number;
  /** Number of cells. */
  size: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Counter/gauge/histogram cells (f64) in shared memory, updated with atomics by every Worker,
 * read by the main isolate without locks or messages. A lock-free directory names runs of
 * cells by key, so every isolate finds the same cells for the same key (wasm/README.md).
 *
 * @example
 * ```ts
 * const stats = StatsBlock.create(wasm, { maxSeries: 1024, maxCells: 8192, keyBytes: 65536 });
 * const cell = stats.series("requests_total\u0000GET", 1);
 * stats.add(cell, 1);
 * stats.get(cell); // 1
 * ```
 */
export class StatsBlock {
  /** Address of the block in the shared memory (post it to Workers). */
  readonly addr: number;
  #ex: WasmExports;
  #v: Views;
  #max: { maxSeries: number; maxCells: number; keyBytes: number };
  #mask: number;
  #dir: number;
  #entries: number;
  #cells: number;
  #keys: number;

  /** Bytes of shared memory a block with these options takes (for sizing the memory). */
  static bytes(opts: StatsBlockOptions): number {
    return layout(opts).bytes + 64; // + alignment
  }

  /**
   * Places an empty stats block in `w`'s memory. Creating isolate only.
   * @throws {RangeError} for sizes out of range
   */
  static create(w: SharedWasm, opts: StatsBlockOptions): StatsBlock {
    const { maxSeries, maxCells, keyBytes } = opts;
    for (
      const [name, v, max] of [
        ["maxSeries", maxSeries, LIMIT],
        ["maxCells", maxCells, LIMIT],
        ["keyBytes", keyBytes, LIMIT * 64],
      ] as const
    ) {
      if (!Number.isInteger(v) || v < (name === "keyBytes" ? 0 : 1) || v > max) {
        throw new RangeError(`StatsBlock option ${name} must be an integer up to ${max}, got ${v}`);
      }
    }
    const { slots, dir, entries, cells, keys, bytes } = layout(opts);
    const addr = w.alloc(bytes, 64);
    const u32 = w[internals].views(addr + HEADER).u32;
    const put = (field: keyof typeof H, value: number) => u32[(addr + H[field]) >> 2] = value;
    put("maxSeries", maxSeries);
    put("maxCells", maxCells);
    put("keyBytes", keyBytes);
    put("slots", slots);
    put("dir", addr + dir);
    put("entries", addr + entries);
    put("cells", addr + cells);
    put("keys", addr + keys);
    w[internals].exports.stats_init(addr);
    return new StatsBlock(w, addr);
  }

  /**
   * The stats block at `addr` (from `stats.addr` in the creating isolate), e.g. in a Worker.
   * @throws {RangeError} when no stats block lives at `addr`
   */
  static attach(w: SharedWasm, addr: number): StatsBlock {
    checkAddress(w, "StatsBlock", addr, HEADER, w[internals].exports.stats_valid);
    return new StatsBlock(w, addr);
  }

  private constructor(w: SharedWasm, addr: number) {
    const { exports, views } = w[internals];
    const u32 = views(addr + HEADER).u32;
    const at = (k: keyof typeof H) => u32[(addr + H[k]) >> 2];
    this.addr = addr;
    this.#max = { maxSeries: at("maxSeries"), maxCells: at("maxCells"), keyBytes: at("keyBytes") };
    this.#mask = at("slots") - 1;
    this.#dir = at("dir");
    this.#entries = at("entries");
    this.#cells = at("cells");
    this.#keys = at("keys");
    this.#ex = exports;
    this.#v = views(this.#keys + this.#max.keyBytes);
  }

  /**
   * Finds or creates the cells of the series named `key` (any string, e.g. name + "\u0000" +
   * label values joined by "\u0000"). The same key gives the same cells in every isolate, even
   * when two Workers create it at the same moment. New cells are 0.
   *
   * @param size number of cells (≥ 1); the same for every call with this key
   * @returns the index of its first cell
   * @throws {RangeError} when full (the message says which limit and the option to raise), or
   *   when `key` exists with another size
   */
  series(key: string, size: number): number {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`A series needs an integer size ≥ 1, got ${size} for ${quote(key)}`);
    }
    const bytes = encoder.encode(key);
    const [hi, lo] = keyHash64(bytes);
    const mask = this.#mask;
    let from = lo & mask;
    let left = mask + 1;
    while (left > 0) {
      const r = this.#ex.stats_probe(this.addr, hi, lo, from, left);
      if (r === -1) break;
      if (r <= -2) return this.#create(-2 - r, key, bytes, size);
      left -= ((r - from) & mask) + 1;
      from = (r + 1) & mask;
      const index = this.#published(r, key);
      if (index < 0 || !this.#keyIs(index, bytes)) continue;
      const e = this.#entry(index);
      if (e.size !== size) {
        throw new RangeError(
          `Series ${quote(key)} has ${e.size} cells, asked for ${size}: use one size per key`,
        );
      }
      return e.cell;
    }
    throw this.#full("maxSeries", key);
  }

  /** Adds `delta` to a cell atomically (a CAS loop in wasm); any isolate. */
  add(cell: number, delta: number): void {
    this.#ex.stats_add(this.#cell(cell), delta);
  }

  /** Stores `value` in a cell atomically; any isolate. */
  set(cell: number, value: number): void {
    this.#ex.stats_set(this.#cell(cell), value);
  }

  /** Loads a cell atomically; any isolate. */
  get(cell: number): number {
    return this.#ex.stats_get(this.#cell(cell));
  }

  /** Number of series created so far (monotonic); `entry(0 … count - 1)` are complete. */
  get count(): number {
    return Atomics.load(this.#v.u32, (this.addr + H.count) >> 2);
  }

  /**
   * Series `index` (0 ≤ index < count), in creation order: its key, first cell, size.
   * @throws {RangeError} for an index outside 0 … count - 1
   */
  entry(index: number): StatsEntry {
    const count = this.count;
    if (!Number.isInteger(index) || index < 0 || index >= count) {
      throw new RangeError(`Series index must be an integer from 0 to ${count - 1}, got ${index}`);
    }
    const { keyAt, keyLength, cell, size } = this.#entry(index);
    return { key: decoder.decode(this.#v.u8.slice(keyAt, keyAt + keyLength)), cell, size };
  }

  #entry(index: number) {
    const u32 = this.#v.u32;
    const at = (this.#entries + index * ENTRY) >> 2;
    const cell = u32[at + 2];
    const size = Atomics.load(u32, at + 3);
    return {
      keyAt: this.#keys + u32[at],
      keyLength: u32[at + 1],
      cell,
      size,
    };
  }

  #keyIs(index: number, bytes: Uint8Array): boolean {
    const { keyAt, keyLength } = this.#entry(index);
    if (keyLength !== bytes.length) return false;
    const u8 = this.#v.u8;
    for (let i = 0; i < keyLength; i++) if (u8[keyAt + i] !== bytes[i]) return false;
    return true;
  }

  /** The entry index published in directory `slot`, waiting while another isolate creates it;
   * -1 when its creation failed. */
  #published(slot: number, key: string): number {
    const i32 = this.#v.i32;
    const word = (this.#dir + slot * SLOT + 8) >> 2;
    let e = Atomics.load(i32, word);
    if (e === 0) {
      Atomics.wait(i32, word, 0, CREATING_WAIT_MS);
      e = Atomics.load(i32, word);
      if (e === 0) {
        throw new Error(
          `Series ${quote(key)} is still being created by another isolate after ` +
            `${CREATING_WAIT_MS} ms: a Worker probably stopped inside StatsBlock.series()`,
        );
      }
    }
    return e === -1 ? -1 : e - 1;
  }

  #create(slot: number, key: string, bytes: Uint8Array, size: number): number {
    const ex = this.#ex;
    const counter = (field: keyof typeof H) => this.addr + H[field];
    // Entries are taken last: a taken entry is always published, so `count` can pass it.
    const cell = ex.stats_take(counter("cellsUsed"), size, this.#max.maxCells);
    const keyAt = cell < 0
      ? -1
      : ex.stats_take(counter("keysUsed"), bytes.length, this.#max.keyBytes);
    const index = keyAt < 0 ? -1 : ex.stats_take(counter("claimed"), 1, this.#max.maxSeries);
    if (index < 0) {
      ex.stats_fail(this.addr, slot);
      throw this.#full(cell < 0 ? "maxCells" : keyAt < 0 ? "keyBytes" : "maxSeries", key);
    }
    const { u8, u32 } = this.#v;
    u8.set(bytes, this.#keys + keyAt);
    const at = (this.#entries + index * ENTRY) >> 2;
    u32[at] = keyAt;
    u32[at + 1] = bytes.length;
    u32[at + 2] = cell;
    ex.stats_publish(this.addr, slot, index, size);
    return cell;
  }

  #cell(cell: number): number {
    if ((cell >>> 0) !== cell || cell >= this.#max.maxCells) {
      throw new RangeError(
        `Cell index must be an integer from 0 to ${this.#max.maxCells - 1}, got ${cell}: ` +
          "use an index series() returned",
      );
    }
    return this.#cells + cell * 8;
  }

  #full(option: "maxSeries" | "maxCells" | "keyBytes", key: string): RangeError {
    const what = { maxSeries: "series", maxCells: "cells", keyBytes: "key bytes" }[option];
    return new RangeError(
      `Stats block is full: no room for the ${what} of series ${quote(key)} ` +
        `(${option} is ${this.#max[option]}): raise ${option} in StatsBlock.create`,
    );
  }
}

function quote(key: string): string {
  return JSON.stringify(key.length > 80 ? key.slice(0, 80) + "…" : key);
}

/** Where the parts of a block with these options sit, relative to its address. */
function layout(opts: StatsBlockOptions) {
  const slots = 2 ** Math.ceil(Math.log2(opts.maxSeries * 2));
  const dir = HEADER;
  const entries = dir + slots * SLOT;
  const cells = alignUp(entries + opts.maxSeries * ENTRY, 8);
  const keys = cells + opts.maxCells * 8;
  return { slots, dir, entries, cells, keys, bytes: keys + opts.keyBytes };
}
