import assert from "node:assert/strict";
import { crc32 as zlibCrc32 } from "node:zlib";
import fc from "fast-check";
import { crc32 } from "../../src/wasm/crc32.ts";
import { internals } from "../../src/wasm/_internal.ts";
import { SharedWasm } from "../../src/wasm/shared_wasm.ts";

type Kernel = (crc: number, ptr: number, len: number) => number;

const MIB = 1 << 20;
/** Random bytes that every case takes its input from (at a random place and length). */
const POOL = 2 * MIB + 64;

const wasm = SharedWasm.create();
const exports = wasm[internals].exports as unknown as Record<string, Kernel>;
const KERNELS: [string, Kernel][] = ["crc32_slice8", "crc32_simd", "crc32_update"].map((n) => {
  assert.equal(typeof exports[n], "function", `wasm/crc32.ts exports ${n}`);
  return [n, exports[n]];
});
const base = wasm.alloc(POOL, 64);
const mem = wasm[internals].views(base + POOL).u8;
const pool = mem.subarray(base, base + POOL);
fillRandom(pool);

function fillRandom(bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i += 65536) {
    crypto.getRandomValues(bytes.subarray(i, Math.min(i + 65536, bytes.length)));
  }
}

/** Every kernel and the wrapper on pool[off, off+len) continued from `seed`, against zlib. */
function checkAll(off: number, len: number, seed: number): void {
  const data = pool.subarray(off, off + len);
  const want = zlibCrc32(data, seed);
  for (const [name, kernel] of KERNELS) {
    const got = kernel(seed, base + off, len) >>> 0;
    if (got !== want) assert.fail(`${name}(seed ${seed}, offset ${off}, length ${len})`);
  }
  // The wrapper reads JS memory: give it a copy so that it cannot lean on the pool's address.
  if (crc32(data.slice(), seed) !== want) assert.fail(`crc32(seed ${seed}, length ${len})`);
}

Deno.test("known vectors", () => {
  const vectors: [string, number][] = [
    ["", 0],
    ["a", 0xe8b7be43],
    ["123456789", 0xcbf43926],
    ["The quick brown fox jumps over the lazy dog", 0x414fa339],
    ["x".repeat(1000), 0x3b41c9e6], // Python: hex(zlib.crc32(b"x" * 1000))
  ];
  for (const [text, want] of vectors) {
    const bytes = new TextEncoder().encode(text);
    assert.equal(zlibCrc32(bytes), want, `zlib agrees on ${JSON.stringify(text.slice(0, 12))}`);
    assert.equal(crc32(bytes), want);
    mem.set(bytes, base);
    for (const [name, kernel] of KERNELS) {
      assert.equal(kernel(0, base, bytes.length) >>> 0, want, `${name} of ${text.slice(0, 12)}`);
    }
  }
});

Deno.test("every length 0..4096 at two alignments equals zlib", () => {
  for (let len = 0; len <= 4096; len++) {
    checkAll(0, len, 0);
    checkAll(1 + (len % 63), len, len * 0x9e3779b1 >>> 0);
  }
});

Deno.test("random lengths, offsets and seeds up to 1 MiB equal zlib", () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.nat(4096), fc.nat(MIB)),
      fc.nat(POOL - MIB),
      fc.oneof(fc.constant(0), fc.nat(0xffffffff)),
      (len, off, seed) => checkAll(off, len, seed),
    ),
    { numRuns: 150 },
  );
});

Deno.test("continuing from a previous result equals one pass over the concatenation", () => {
  fc.assert(
    fc.property(fc.nat(64 * 1024), fc.nat(64 * 1024), fc.nat(POOL - 128 * 1024), (a, b, off) => {
      const whole = pool.subarray(off, off + a + b);
      const want = zlibCrc32(whole);
      const first = whole.subarray(0, a);
      const second = whole.subarray(a);
      assert.equal(crc32(second, crc32(first)), want);
      for (const [name, kernel] of KERNELS) {
        const mid = kernel(0, base + off, a);
        assert.equal(kernel(mid, base + off + a, b) >>> 0, want, `${name} split at ${a}`);
      }
    }),
    { numRuns: 200 },
  );
});

Deno.test("crc32 rejects a seed that is not a 32-bit unsigned integer", () => {
  for (const seed of [-1, 2 ** 32, 1.5, NaN]) {
    assert.throws(() => crc32(new Uint8Array(3), seed), RangeError);
  }
  assert.equal(crc32(new Uint8Array(0), 0xffffffff), 0xffffffff);
});

Deno.test("kernels only read memory, and re-instantiation leaves it byte for byte as it was", () => {
  // Other Workers run the kernels on the same shared memory while a new Worker instantiates the
  // module, which rewrites the static data (the tables): both must leave every byte unchanged.
  const before = mem.slice();
  for (const [, kernel] of KERNELS) kernel(0, base, POOL);
  SharedWasm.attach(wasm.handle);
  assert.ok(mem.every((b, i) => b === before[i]), "memory changed");
});
