// Push + pop of one record per message through a ring in one isolate: skiff's wasm `Ring` vs a
// plain-TypeScript SPSC ring over a SharedArrayBuffer with the same record format (12-byte
// header with type, version, length and CRC32 of the payload; records 8-byte aligned; a pad
// marker at the end; CRC computed on push and checked on pop; Atomics for the indices and the
// sleeping-consumer flag). Each bench does 1000 messages per iteration, so µs/iter = ns/msg.
//
//   deno bench --allow-all bench/ring_bench.ts
//
// `TsRing` is also the baseline of bench/ring_workers_bench.ts.
import { Ring, SharedWasm } from "../src/wasm/mod.ts";

const HDR = 12;
const PAD = 0xffffffff;
const DATA = 256; // header bytes before the data: head @0, tail @64, flags @128/132, as in wasm

const TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) {
      t[k * 256 + n] = (t[(k - 1) * 256 + n] >>> 8) ^ t[t[(k - 1) * 256 + n] & 0xff];
    }
  }
  return t;
})();

/** CRC-32 (zlib's) of `u8[start, end)`, slicing-by-8 in plain TypeScript. */
export function crc32Ts(u8: Uint8Array, start: number, end: number): number {
  const t = TABLES;
  let c = -1;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const a = c ^ (u8[i] | (u8[i + 1] << 8) | (u8[i + 2] << 16) | (u8[i + 3] << 24));
    c = t[1792 + (a & 0xff)] ^ t[1536 + ((a >>> 8) & 0xff)] ^ t[1280 + ((a >>> 16) & 0xff)] ^
      t[1024 + (a >>> 24)] ^ t[768 + u8[i + 4]] ^ t[512 + u8[i + 5]] ^ t[256 + u8[i + 6]] ^
      t[u8[i + 7]];
  }
  for (; i < end; i++) c = t[(c ^ u8[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** The plain-TypeScript baseline: an SPSC ring of records in a SharedArrayBuffer. */
export class TsRing {
  /** Data bytes (a power of two). */
  readonly capacity: number;
  /** Largest payload. */
  readonly maxPayload: number;
  /** The memory (post it to a Worker and `new TsRing(sab)` there). */
  readonly sab: SharedArrayBuffer;
  #i32: Int32Array;
  #u32: Uint32Array;
  #u8: Uint8Array;

  /** A new ring of `capacity` data bytes. */
  static create(capacity: number): TsRing {
    const sab = new SharedArrayBuffer(DATA + capacity);
    new Uint32Array(sab)[49] = capacity;
    return new TsRing(sab);
  }

  /** The ring in `sab`. */
  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.#i32 = new Int32Array(sab);
    this.#u32 = new Uint32Array(sab);
    this.#u8 = new Uint8Array(sab);
    this.capacity = this.#u32[49];
    this.maxPayload = this.capacity / 2 - HDR;
  }

  /** Appends a record; false when full. */
  push(type: number, payload: Uint8Array, version = 0): boolean {
    const n = payload.length;
    if (n > this.maxPayload) throw new RangeError(`payload ${n} > ${this.maxPayload}`);
    const cap = this.capacity;
    const head = this.#u32[0];
    const off = head & (cap - 1);
    const rem = cap - off;
    const s = (HDR + n + 7) & ~7;
    const need = s <= rem ? s : rem + s;
    if (!this.#fits(head, need)) return false;
    let at = DATA + off;
    if (s > rem) {
      if (rem >= HDR) this.#u32[(at + 4) >> 2] = PAD;
      at = DATA;
    }
    const u32 = this.#u32;
    this.#u8.set(payload, at + HDR);
    u32[at >> 2] = type | (version << 16);
    u32[(at >> 2) + 1] = n;
    u32[(at >> 2) + 2] = crc32Ts(this.#u8, at + HDR, at + HDR + n);
    Atomics.store(this.#i32, 0, (head + need) | 0);
    if (Atomics.load(this.#i32, 32) !== 0) Atomics.notify(this.#i32, 0);
    return true;
  }

  /** Oldest record or null; throws on a CRC mismatch. */
  pop(): { type: number; version: number; payload: Uint8Array } | null {
    const cap = this.capacity;
    const u32 = this.#u32;
    let tail = u32[16];
    while (true) {
      const head = Atomics.load(this.#i32, 0) >>> 0;
      if (head === tail) return null;
      const off = tail & (cap - 1);
      const rem = cap - off;
      const at = DATA + off;
      if (rem < HDR || u32[(at >> 2) + 1] === PAD) {
        tail = (tail + rem) >>> 0;
        this.#release(tail);
        continue;
      }
      const n = u32[(at >> 2) + 1];
      if (crc32Ts(this.#u8, at + HDR, at + HDR + n) !== u32[(at >> 2) + 2]) {
        throw new Error("CRC mismatch");
      }
      const tv = u32[at >> 2];
      const payload = this.#u8.slice(at + HDR, at + HDR + n);
      this.#release((tail + ((HDR + n + 7) & ~7)) >>> 0);
      return { type: tv & 0xffff, version: tv >>> 16, payload };
    }
  }

  /** Blocks until a record is readable or `ms` passed (same flag protocol as `Ring`). */
  wait(ms: number): boolean {
    const i32 = this.#i32;
    Atomics.store(i32, 32, 1);
    const head = Atomics.load(i32, 0);
    if (head === Atomics.load(i32, 16)) Atomics.wait(i32, 0, head, ms);
    Atomics.store(i32, 32, 0);
    return Atomics.load(i32, 0) !== Atomics.load(i32, 16);
  }

  /** Blocks until a `n`-byte payload fits or `ms` passed (same flag protocol as `Ring`). */
  waitWritable(n: number, ms: number): void {
    const i32 = this.#i32;
    const cap = this.capacity;
    const head = this.#u32[0];
    const rem = cap - (head & (cap - 1));
    const s = (HDR + n + 7) & ~7;
    Atomics.store(i32, 33, 1);
    const tail = Atomics.load(i32, 16);
    if (!this.#fits(head, s <= rem ? s : rem + s)) Atomics.wait(i32, 16, tail, ms);
    Atomics.store(i32, 33, 0);
  }

  #fits(head: number, need: number): boolean {
    return this.capacity - ((head - Atomics.load(this.#i32, 16)) >>> 0) >= need;
  }

  #release(tail: number): void {
    Atomics.store(this.#i32, 16, tail | 0);
    if (Atomics.load(this.#i32, 33) !== 0) Atomics.notify(this.#i32, 16);
  }
}

/** The 16 payload sizes cycled through, spread ±25 % around `size` (not one fixed length). */
function payloads(size: number): Uint8Array[] {
  return Array.from({ length: 16 }, (_, i) => {
    const p = new Uint8Array(Math.round(size * (0.75 + i / 30)));
    for (let k = 0; k < p.length; k++) p[k] = (k * 31 + i) & 0xff;
    return p;
  });
}

if (Deno.mainModule === import.meta.url) {
  const MSGS = 1000;
  const wasm = SharedWasm.create({ initialPages: 64 });
  for (
    const [label, size, n] of [["64 B", 64, 2000], ["1 KiB", 1024, 500], [
      "16 KiB",
      16384,
      60,
    ]] as const
  ) {
    const data = payloads(size);
    const ring = Ring.create(wasm, 1 << 18);
    const ts = TsRing.create(1 << 18);
    const opts = { group: label, n, warmup: Math.ceil(n / 10) };
    Deno.bench(`wasm Ring push+pop ${label} (×${MSGS})`, { ...opts, baseline: true }, () => {
      for (let i = 0; i < MSGS; i++) {
        ring.push(1, data[i & 15]);
        ring.pop();
      }
    });
    Deno.bench(`plain-TS SAB ring push+pop ${label} (×${MSGS})`, opts, () => {
      for (let i = 0; i < MSGS; i++) {
        ts.push(1, data[i & 15]);
        ts.pop();
      }
    });
  }
}
