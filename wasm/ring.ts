// Single-producer single-consumer ring of variable-length records (layout in wasm/README.md).
//
// Ring header at `r` (64-byte aligned), one cache line per writer:
//   +0   HEAD     u32  bytes published by the producer (wrapping); the consumer waits here
//   +4   P_TAIL   u32  the producer's cached copy of TAIL
//   +64  TAIL     u32  bytes released by the consumer (wrapping); the producer waits here
//   +68  C_HEAD   u32  the consumer's cached copy of HEAD
//   +128 C_SLEEP  i32  1 while the consumer waits on HEAD
//   +132 P_SLEEP  i32  1 while the producer waits on TAIL
//   +192 MAGIC, +196 CAPACITY (power of two), +256 data
// Record: type u16 | version u16 << 16, length u32, crc32(payload) u32, payload; the record
// is padded to 8 bytes and never straddles the end of the data area: the producer skips the
// rest (a PAD length marks it when at least a header fits there) and starts again at 0.

import { crc32_update } from "./crc32";

const HEAD: usize = 0;
const P_TAIL: usize = 4;
const TAIL: usize = 64;
const C_HEAD: usize = 68;
const C_SLEEP: usize = 128;
const P_SLEEP: usize = 132;
const MAGIC: usize = 192;
const CAPACITY: usize = 196;
const DATA: usize = 256;
const HDR: u32 = 12;
const PAD: u32 = 0xffffffff;
const RING_MAGIC: u32 = 0x52494e47;

function stride(len: u32): u32 {
  return (HDR + len + 7) & ~7;
}

/** Largest payload of a ring of `cap` bytes: a record may take at most half the ring. */
function maxPayload(cap: u32): u32 {
  return (cap >> 1) - HDR;
}

/** Formats the header of a ring of `capacity` data bytes at `r` (zeroed memory). */
export function ring_init(r: usize, capacity: u32): void {
  store<u32>(r + CAPACITY, capacity);
  atomic.store<u32>(r + MAGIC, RING_MAGIC);
}

/** True when `r` holds a ring header. */
export function ring_valid(r: usize): bool {
  return atomic.load<u32>(r + MAGIC) == RING_MAGIC;
}

/** Producer: address where a `len`-byte payload goes, or 0 when there is no room now. */
export function ring_reserve(r: usize, len: u32): usize {
  const cap = load<u32>(r + CAPACITY);
  if (len > maxPayload(cap)) return 0;
  const head = load<u32>(r + HEAD);
  const off = head & (cap - 1);
  const rem = cap - off;
  const s = stride(len);
  const need = s <= rem ? s : rem + s;
  if (cap - (head - load<u32>(r + P_TAIL)) < need) {
    const tail = atomic.load<u32>(r + TAIL);
    store<u32>(r + P_TAIL, tail);
    if (cap - (head - tail) < need) return 0;
  }
  return r + DATA + <usize> (s <= rem ? off : 0) + HDR;
}

/**
 * Producer: publishes the payload copied to `ring_reserve(r, len)`'s address, with its header
 * and CRC, and wakes the consumer only when it announced that it sleeps.
 */
export function ring_commit(r: usize, typeVersion: u32, len: u32): void {
  const cap = load<u32>(r + CAPACITY);
  const head = load<u32>(r + HEAD);
  const off = head & (cap - 1);
  const rem = cap - off;
  const s = stride(len);
  let start = off;
  let next = head + s;
  if (s > rem) {
    if (rem >= HDR) store<u32>(r + DATA + <usize> off + 4, PAD);
    start = 0;
    next = head + rem + s;
  }
  const h = r + DATA + <usize> start;
  store<u32>(h, typeVersion);
  store<u32>(h + 4, len);
  store<u32>(h + 8, crc32_update(0, h + HDR, len));
  atomic.store<u32>(r + HEAD, next);
  if (atomic.load<i32>(r + C_SLEEP) != 0) {
    atomic.notify(r + HEAD, -1);
  }
}

/**
 * Consumer: address of the oldest record's header, 0 when empty, or minus the address when the
 * record is corrupt (implausible length or CRC mismatch). Skips padding.
 */
export function ring_peek(r: usize): isize {
  const cap = load<u32>(r + CAPACITY);
  let tail = load<u32>(r + TAIL);
  while (true) {
    let head = load<u32>(r + C_HEAD);
    if (head == tail) {
      head = atomic.load<u32>(r + HEAD);
      store<u32>(r + C_HEAD, head);
      if (head == tail) return 0;
    }
    const off = tail & (cap - 1);
    const rem = cap - off;
    const h = r + DATA + <usize> off;
    if (rem < HDR || load<u32>(h + 4) == PAD) {
      tail += rem;
      release(r, tail);
      continue;
    }
    const len = load<u32>(h + 4);
    if (len > maxPayload(cap) || stride(len) > rem || stride(len) > head - tail) {
      return -(<isize> h);
    }
    if (crc32_update(0, h + HDR, len) != load<u32>(h + 8)) return -(<isize> h);
    return <isize> h;
  }
}

/**
 * Consumer: releases the record `ring_peek` returned and returns the bytes released. A record
 * whose length is implausible releases everything published so far.
 */
export function ring_advance(r: usize): u32 {
  const cap = load<u32>(r + CAPACITY);
  const tail = load<u32>(r + TAIL);
  const head = load<u32>(r + C_HEAD);
  const off = tail & (cap - 1);
  const len = load<u32>(r + DATA + <usize> off + 4);
  let next = head;
  if (len <= maxPayload(cap) && stride(len) <= cap - off && stride(len) <= head - tail) {
    next = tail + stride(len);
  }
  release(r, next);
  return next - tail;
}

function release(r: usize, tail: u32): void {
  atomic.store<u32>(r + TAIL, tail);
  if (atomic.load<i32>(r + P_SLEEP) != 0) {
    atomic.notify(r + TAIL, -1);
  }
}
