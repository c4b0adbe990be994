// skiff's WebAssembly hot paths (AssemblyScript, compiled by wasm/build.ts into
// src/wasm/_gen/skiff_wasm.ts). One module, instantiated once per isolate on one shared memory.
//
// Rules for everything in this module (see wasm/README.md): no allocation (`--runtime stub`), no
// mutable globals (every instance has its own), shared structures only at the explicit
// addresses that the TypeScript wrapper hands out above `heap_base()`.

export * from "./ring";
export * from "./pool";
export * from "./stats";
export * from "./crc32";

/** Layout version of the structures below; src/wasm checks it against its own constant. */
export function abi_version(): u32 {
  return 1;
}

/** First byte above the module's static data: shared structures are placed from here on. */
export function heap_base(): usize {
  return __heap_base;
}
