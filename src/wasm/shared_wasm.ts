import { wasmBytes } from "./_gen/skiff_wasm.ts";
import {
  ABI_VERSION,
  alignUp,
  type Internals,
  internals,
  type Views,
  type WasmExports,
} from "./_internal.ts";

/** Structured-cloneable: postMessage it to a Worker, which calls `SharedWasm.attach(handle)`. */
export interface SharedWasmHandle {
  /** The compiled module (src/wasm/_gen/). */
  module: WebAssembly.Module;
  /** The shared memory every instance works on. */
  memory: WebAssembly.Memory;
}

/** Options of `SharedWasm.create`. */
export interface SharedWasmOptions {
  /** Pages (64 KiB) to start with; default 16 (1 MiB). */
  initialPages?: number;
  /** Pages the memory may grow to; default 16384 (1 GiB), at most 32768 (2 GiB). */
  maximumPages?: number;
}

const PAGE = 65536;
/** The module declares this maximum: addresses stay below 2^31 (positive i32). */
const MAX_PAGES = 32768;

/**
 * One instance of skiff's WebAssembly module on a shared memory. The main isolate creates the
 * memory and places structures in it (`alloc`, or `Ring.create` and friends); Workers attach
 * to the same memory with the handle and the structures' addresses.
 *
 * @example
 * ```ts
 * const wasm = SharedWasm.create();
 * const ring = Ring.create(wasm, 1 << 16);
 * worker.postMessage({ wasm: wasm.handle, ring: ring.addr });
 * // in the Worker: Ring.attach(SharedWasm.attach(msg.wasm), msg.ring)
 * ```
 */
export class SharedWasm {
  /** Pass this to Workers (postMessage) so they can `attach`. */
  readonly handle: SharedWasmHandle;
  /** @internal for the wrappers in src/wasm */
  readonly [internals]: Internals;
  /** Next free byte in the creating isolate; -1 in attached instances, which never allocate. */
  #next: number;
  #views: Views;

  /**
   * Compiles the embedded module (src/wasm/_gen/) and creates one shared memory. Main isolate.
   * @throws {RangeError} for page counts that are not integers with
   *   1 ≤ initialPages ≤ maximumPages ≤ 32768
   */
  static create(opts: SharedWasmOptions = {}): SharedWasm {
    const initial = opts.initialPages ?? 16;
    const maximum = opts.maximumPages ?? Math.max(16384, initial);
    if (
      !Number.isInteger(initial) || !Number.isInteger(maximum) || initial < 1 ||
      initial > maximum || maximum > MAX_PAGES
    ) {
      throw new RangeError(
        `SharedWasm.create needs integers 1 ≤ initialPages ≤ maximumPages ≤ ${MAX_PAGES}, ` +
          `got initialPages ${initial} and maximumPages ${maximum}`,
      );
    }
    const module = new WebAssembly.Module(wasmBytes());
    const memory = new WebAssembly.Memory({ initial, maximum, shared: true });
    return new SharedWasm({ module, memory }, true);
  }

  /**
   * Instantiates the module on a memory created elsewhere (inside a Worker). Synchronous.
   * @throws {TypeError} when `handle` is not a `SharedWasm.handle`
   */
  static attach(handle: SharedWasmHandle): SharedWasm {
    if (
      !(handle?.module instanceof WebAssembly.Module) ||
      !(handle.memory instanceof WebAssembly.Memory) ||
      !(handle.memory.buffer instanceof SharedArrayBuffer)
    ) {
      throw new TypeError(
        "SharedWasm.attach needs the `handle` of a SharedWasm (a module and a shared memory); " +
          "post `wasm.handle` to the Worker unchanged",
      );
    }
    return new SharedWasm(handle, false);
  }

  private constructor(handle: SharedWasmHandle, creator: boolean) {
    this.handle = handle;
    const instance = new WebAssembly.Instance(handle.module, {
      env: {
        memory: handle.memory,
        abort: () => {
          throw new Error("The skiff WebAssembly module aborted; rebuild it with `deno task gen`");
        },
      },
    });
    const exports = instance.exports as unknown as WasmExports;
    if (exports.abi_version() !== ABI_VERSION) {
      throw new Error(
        `src/wasm/_gen/skiff_wasm.ts has layout ${exports.abi_version()}, the wrapper expects ` +
          `${ABI_VERSION}: run \`deno task gen\``,
      );
    }
    this.#next = creator ? alignUp(exports.heap_base(), 64) : -1;
    this.#views = makeViews(handle.memory.buffer);
    this[internals] = { exports, views: (end) => this.#covering(end) };
  }

  /**
   * Reserves `bytes` of shared memory at an explicit address (bump allocation after the
   * module's static data; grows the memory when needed). The bytes are zero and never reused.
   * Only the creating isolate may call it.
   *
   * @param bytes how many bytes (a non-negative integer)
   * @param align alignment of the address, a power of two (default 16)
   * @returns the address
   * @throws {Error} in an attached instance
   * @throws {RangeError} for bad arguments, or when the memory would exceed its maximum
   */
  alloc(bytes: number, align = 16): number {
    if (this.#next < 0) {
      throw new Error(
        "Only the isolate that called SharedWasm.create can allocate shared memory: create " +
          "the structure there and post its address to this Worker",
      );
    }
    if (!Number.isInteger(bytes) || bytes < 0 || !(align > 0 && (align & (align - 1)) === 0)) {
      throw new RangeError(
        `alloc needs a byte count ≥ 0 and a power-of-two alignment, got ${bytes} and ${align}`,
      );
    }
    const addr = alignUp(this.#next, align);
    const end = addr + bytes;
    const memory = this.handle.memory;
    const have = memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      try {
        memory.grow(pages);
      } catch {
        throw new RangeError(
          `Shared memory cannot grow by ${pages} pages to reserve ${bytes} bytes (it has ` +
            `${have / PAGE} pages): raise maximumPages in SharedWasm.create`,
        );
      }
    }
    this.#next = end;
    return addr;
  }

  #covering(end: number): Views {
    if (end > this.#views.u8.length) {
      this.#views = makeViews(this.handle.memory.buffer);
      if (end > this.#views.u8.length) {
        throw new RangeError(
          `Address ${end} lies beyond the shared memory (${this.#views.u8.length} bytes): ` +
            "pass an address handed out by this memory's SharedWasm",
        );
      }
    }
    return this.#views;
  }
}

function makeViews(buffer: ArrayBufferLike): Views {
  return { u8: new Uint8Array(buffer), u32: new Uint32Array(buffer), i32: new Int32Array(buffer) };
}
