import { checkAddress, internals, type Views, type WasmExports } from "./_internal.ts";
import { checkTimeout, waitAsync, type WaitSpec, waitSync } from "./_wait.ts";
import { RingCorruptError } from "./ring_corrupt_error.ts";
import type { SharedWasm } from "./shared_wasm.ts";

// Header offsets; keep in step with wasm/ring.ts.
const HEAD = 0;
const TAIL = 64;
const C_SLEEP = 128;
const P_SLEEP = 132;
const CAPACITY = 196;
const DATA = 256;
const RECORD_HEADER = 12;
const MIN_CAPACITY = 64;
const MAX_CAPACITY = 2 ** 30;

/** One record taken from a ring. */
export interface RingRecord {
  /** Record type, 0 … 65535 (the caller's numbering). */
  type: number;
  /** Format version of the payload, 0 … 65535. */
  version: number;
  /** A copy of the payload (the ring's bytes are reused as soon as `pop` returns). */
  payload: Uint8Array;
}

/**
 * Single-producer single-consumer ring of variable-length records in shared memory. One
 * isolate pushes, one (possibly another) pops; records carry a type, a version and the CRC32
 * of their payload. The layout, the record format and the wait/notify protocol are described
 * in wasm/README.md.
 *
 * @example
 * ```ts
 * const ring = Ring.create(wasm, 1 << 16);
 * ring.push(1, new TextEncoder().encode("hello"));
 * ring.pop(); // { type: 1, version: 0, payload: Uint8Array(5) }
 * ```
 */
export class Ring {
  /** Address of the ring in the shared memory (post it to the other side). */
  readonly addr: number;
  /** Data bytes (a power of two); records, headers and padding share them. */
  readonly capacity: number;
  /** Largest payload push() accepts: a record takes at most half the ring. */
  readonly maxPayload: number;
  #ex: WasmExports;
  #v: Views;
  #readable: WaitSpec;
  #writable: WaitSpec;
  #want = 0;

  /** Bytes of shared memory a ring of this capacity takes (for sizing the memory). */
  static bytes(capacityBytes: number): number {
    return DATA + capacityBytes + 64; // + alignment
  }

  /**
   * Places a new, empty ring in `w`'s memory. Creating isolate only.
   * @param capacityBytes data bytes, a power of two from 64 to 2^30
   * @throws {RangeError} for any other capacity
   */
  static create(w: SharedWasm, capacityBytes: number): Ring {
    const cap = capacityBytes;
    if (!Number.isInteger(cap) || cap < MIN_CAPACITY || cap > MAX_CAPACITY || (cap & (cap - 1))) {
      throw new RangeError(
        `Ring capacity must be a power of two from ${MIN_CAPACITY} to 2^30 bytes, got ${cap}`,
      );
    }
    const addr = w.alloc(DATA + cap, 64);
    w[internals].exports.ring_init(addr, cap);
    return new Ring(w, addr);
  }

  /**
   * The ring at `addr` (from `ring.addr` in the creating isolate), e.g. inside a Worker.
   * @throws {RangeError} when no ring lives at `addr`
   */
  static attach(w: SharedWasm, addr: number): Ring {
    checkAddress(w, "Ring", addr, DATA, w[internals].exports.ring_valid);
    return new Ring(w, addr);
  }

  private constructor(w: SharedWasm, addr: number) {
    const { exports, views } = w[internals];
    const capacity = views(addr + DATA).u32[(addr + CAPACITY) >> 2];
    this.addr = addr;
    this.capacity = capacity;
    this.maxPayload = capacity / 2 - RECORD_HEADER;
    this.#ex = exports;
    this.#v = views(addr + DATA + capacity);
    const i32 = this.#v.i32;
    const head = (addr + HEAD) >> 2;
    const tail = (addr + TAIL) >> 2;
    this.#readable = {
      i32,
      watched: head,
      flag: (addr + C_SLEEP) >> 2,
      ready: () => Atomics.load(i32, head) !== Atomics.load(i32, tail),
    };
    this.#writable = {
      i32,
      watched: tail,
      flag: (addr + P_SLEEP) >> 2,
      ready: () => exports.ring_reserve(addr, this.#want) !== 0,
    };
  }

  /**
   * Appends one record (header: type u16, version u16, length u32, CRC32 of payload). The
   * payload is copied straight into the ring; the consumer is woken only when it sleeps.
   * Producer side only.
   *
   * @param type record type, 0 … 65535
   * @param payload the bytes (up to `maxPayload`)
   * @param version payload format version, 0 … 65535 (default 0)
   * @returns false when there is no room now (the caller drops and counts, or retries)
   * @throws {RangeError} above `maxPayload`, or for a type or version out of range
   */
  push(type: number, payload: Uint8Array, version = 0): boolean {
    const n = payload.length;
    if (n > this.maxPayload || (type & 0xffff) !== type || (version & 0xffff) !== version) {
      throw new RangeError(this.#pushProblem(type, n, version));
    }
    const at = this.#ex.ring_reserve(this.addr, n);
    if (at === 0) return false;
    this.#v.u8.set(payload, at);
    this.#ex.ring_commit(this.addr, type | (version << 16), n);
    return true;
  }

  /**
   * Takes the oldest record. Consumer side only.
   * @returns the record, or null when the ring is empty
   * @throws {RingCorruptError} when the record fails its CRC32 or length check (it is
   *   skipped, the next pop goes on after it)
   */
  pop(): RingRecord | null {
    const h = this.#ex.ring_peek(this.addr);
    if (h === 0) return null;
    const { u8, u32 } = this.#v;
    const at = Math.abs(h);
    const typeVersion = u32[at >> 2];
    if (h < 0) this.#corrupt(at, typeVersion & 0xffff, u32[(at >> 2) + 1]);
    const start = at + RECORD_HEADER;
    const payload = u8.slice(start, start + u32[(at >> 2) + 1]);
    this.#ex.ring_advance(this.addr);
    return { type: typeVersion & 0xffff, version: typeVersion >>> 16, payload };
  }

  /**
   * Resolves true as soon as a record is readable, false after `timeoutMs`; never spins
   * (Atomics.waitAsync on the producer index; the producer notifies only when the consumer
   * sleeps). One waiter at a time: the consumer.
   * @throws {RangeError} for a negative timeout
   */
  waitAsync(timeoutMs: number): Promise<boolean> {
    return waitAsync(this.#readable, checkTimeout(timeoutMs));
  }

  /**
   * Same as `waitAsync`, blocking (Atomics.wait) — for a Worker that has nothing else to do.
   * @throws {RangeError} for a negative timeout
   */
  wait(timeoutMs: number): boolean {
    return waitSync(this.#readable, checkTimeout(timeoutMs));
  }

  /**
   * Producer side: blocks until a payload of `payloadBytes` fits, or `timeoutMs` passed; the
   * consumer notifies only when the producer sleeps. Returns whether it fits now.
   * @throws {RangeError} above `maxPayload` or for a negative timeout
   */
  waitWritable(payloadBytes: number, timeoutMs: number): boolean {
    this.#want = this.#checkWant(payloadBytes);
    return waitSync(this.#writable, checkTimeout(timeoutMs));
  }

  /**
   * Producer side, async form of `waitWritable`.
   * @throws {RangeError} above `maxPayload` or for a negative timeout
   */
  waitWritableAsync(payloadBytes: number, timeoutMs: number): Promise<boolean> {
    this.#want = this.#checkWant(payloadBytes);
    return waitAsync(this.#writable, checkTimeout(timeoutMs));
  }

  /** Bytes currently buffered (records, headers and padding). */
  get used(): number {
    const i32 = this.#v.i32;
    return (Atomics.load(i32, (this.addr + HEAD) >> 2) -
      Atomics.load(i32, (this.addr + TAIL) >> 2)) >>> 0;
  }

  #checkWant(n: number): number {
    if (!Number.isInteger(n) || n < 0 || n > this.maxPayload) {
      throw new RangeError(
        `waitWritable needs a payload size from 0 to maxPayload (${this.maxPayload}), got ${n}`,
      );
    }
    return n;
  }

  #pushProblem(type: number, n: number, version: number): string {
    if (n > this.maxPayload) {
      return `Payload of ${n} bytes exceeds the ring's maxPayload of ${this.maxPayload}: ` +
        "split it, or create the ring with at least twice the capacity";
    }
    const [what, v] = (type & 0xffff) !== type ? ["type", type] : ["version", version];
    return `Record ${what} must be an integer from 0 to 65535, got ${v}`;
  }

  #corrupt(at: number, type: number, length: number): never {
    const dropped = this.#ex.ring_advance(this.addr);
    const where = `Ring record at offset ${at - this.addr - DATA} (type ${type})`;
    const why = dropped === Math.ceil((RECORD_HEADER + length) / 8) * 8
      ? `failed its CRC32 check: skipped its ${dropped} bytes`
      : `has an impossible length ${length}: dropped all ${dropped} buffered bytes`;
    throw new RingCorruptError(
      `${where} ${why}; something other than this ring wrote into its memory`,
      dropped,
      type,
    );
  }
}
