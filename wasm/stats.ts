// Shared f64 cells and the lock-free directory that names them (layout in wasm/README.md).
//
// Stats header at `s` (64-byte aligned):
//   +0 MAGIC, +4 MAX_SERIES, +8 MAX_CELLS, +12 KEY_BYTES, +16 SLOTS (power of two),
//   +20 COUNT (entries 0..COUNT-1 are published), +24 CLAIMED (entries handed out),
//   +28 CELLS_USED, +32 KEYS_USED, +36 DIR, +40 ENTRIES, +44 CELLS, +48 KEYS (addresses)
// DIR:     SLOTS × 16 bytes: hash u64 (0 = free; claimed by CAS), entry u32 (0 = being
//          created, index + 1 once published, FAILED when creation ran out of room)
// ENTRIES: MAX_SERIES × 16 bytes: key offset, key length, first cell, size (0 until published)
// CELLS:   MAX_CELLS × f64; KEYS: KEY_BYTES of UTF-8 keys

const MAGIC: usize = 0;
const MAX_SERIES: usize = 4;
const SLOTS: usize = 16;
const COUNT: usize = 20;
const DIR: usize = 36;
const ENTRIES: usize = 40;
const FAILED: u32 = 0xffffffff;
const STATS_MAGIC: u32 = 0x53544154;

/** Formats a stats block at `s` whose header fields +4..+48 the wrapper has written. */
export function stats_init(s: usize): void {
  atomic.store<u32>(s + MAGIC, STATS_MAGIC);
}

/** True when `s` holds a stats block header. */
export function stats_valid(s: usize): bool {
  return atomic.load<u32>(s + MAGIC) == STATS_MAGIC;
}

/**
 * Looks for the directory slot of a key hashing to `hi:lo`, examining at most `limit` slots
 * from `from`. Returns the first slot holding the same hash (the caller compares the key; it
 * may still be being created), `-2 - slot` for a free slot this call claimed, or -1.
 */
export function stats_probe(s: usize, hi: u32, lo: u32, from: u32, limit: u32): i32 {
  let hash = (<u64> hi << 32) | <u64> lo;
  if (hash == 0) hash = 1;
  const mask = load<u32>(s + SLOTS) - 1;
  const dir = <usize> load<u32>(s + DIR);
  for (let i: u32 = 0; i < limit; i++) {
    const slot = (from + i) & mask;
    const a = dir + (<usize> slot << 4);
    let cur = atomic.load<u64>(a);
    if (cur == 0) {
      cur = atomic.cmpxchg<u64>(a, 0, hash);
      if (cur == 0) return -2 - <i32> slot;
    }
    if (cur == hash) return <i32> slot;
  }
  return -1;
}

/**
 * Takes `n` units from the counter at `counter` without exceeding `limit`: returns the first
 * unit, or -1 (and takes nothing) when fewer than `n` are left.
 */
export function stats_take(counter: usize, n: u32, limit: u32): i32 {
  let cur = atomic.load<u32>(counter);
  while (true) {
    if (n > limit || cur > limit - n) return -1;
    const seen = atomic.cmpxchg<u32>(counter, cur, cur + n);
    if (seen == cur) return <i32> cur;
    cur = seen;
  }
}

/**
 * Publishes entry `index` (its key and cell fields written) of `size` cells in directory
 * `slot`, wakes isolates waiting for it and advances COUNT over every published entry.
 */
export function stats_publish(s: usize, slot: u32, index: u32, size: u32): void {
  const entries = <usize> load<u32>(s + ENTRIES);
  atomic.store<u32>(entries + (<usize> index << 4) + 12, size);
  const e = <usize> load<u32>(s + DIR) + (<usize> slot << 4) + 8;
  atomic.store<u32>(e, index + 1);
  atomic.notify(e, -1);
  const max = load<u32>(s + MAX_SERIES);
  let c = atomic.load<u32>(s + COUNT);
  while (c < max && atomic.load<u32>(entries + (<usize> c << 4) + 12) != 0) {
    const seen = atomic.cmpxchg<u32>(s + COUNT, c, c + 1);
    c = seen == c ? c + 1 : seen;
  }
}

/** Marks a claimed `slot` whose creation failed, and wakes isolates waiting for it. */
export function stats_fail(s: usize, slot: u32): void {
  const e = <usize> load<u32>(s + DIR) + (<usize> slot << 4) + 8;
  atomic.store<u32>(e, FAILED);
  atomic.notify(e, -1);
}

/** Adds `delta` to the f64 cell at `p` atomically (CAS loop on its bits). */
export function stats_add(p: usize, delta: f64): void {
  let old = atomic.load<i64>(p);
  while (true) {
    const seen = atomic.cmpxchg<i64>(p, old, reinterpret<i64>(reinterpret<f64>(old) + delta));
    if (seen == old) return;
    old = seen;
  }
}

/** Stores `value` in the f64 cell at `p` atomically. */
export function stats_set(p: usize, value: f64): void {
  atomic.store<i64>(p, reinterpret<i64>(value));
}

/** Loads the f64 cell at `p` atomically. */
export function stats_get(p: usize): f64 {
  return reinterpret<f64>(atomic.load<i64>(p));
}
