// Fixed-size blocks with a lock-free free list (Treiber stack) that every Worker may use.
//
// Pool header at `p` (64-byte aligned):
//   +0  HEAD        u64  tag << 32 | index of the first free block (EMPTY when none)
//   +8  AVAILABLE   u32  free blocks
//   +12 EXHAUSTIONS u32  pool_alloc calls that found no free block
//   +16 MAGIC, +20 BLOCK_SIZE, +24 BLOCKS, +28 DATA (address of block 0)
//   +64 LINKS       u32 per block: the next free index while free, TAKEN while handed out
// Every successful CAS on HEAD increments the tag, so a stale (tag, index) pair read before
// another Worker popped and pushed the same block back cannot win (ABA).

const HEAD: usize = 0;
const AVAILABLE: usize = 8;
const EXHAUSTIONS: usize = 12;
const MAGIC: usize = 16;
const BLOCK_SIZE: usize = 20;
const BLOCKS: usize = 24;
const DATA: usize = 28;
const LINKS: usize = 64;
const EMPTY: u32 = 0xffffffff;
const TAKEN: u32 = 0xfffffffe;
const POOL_MAGIC: u32 = 0x504f4f4c;

function nextHead(old: u64, index: u32): u64 {
  return (((old >> 32) + 1) << 32) | <u64> index;
}

/** Formats a pool of `blocks` blocks of `blockSize` bytes starting at `data`, all free. */
export function pool_init(p: usize, blockSize: u32, blocks: u32, data: usize): void {
  const links = p + LINKS;
  for (let i: u32 = 0; i < blocks; i++) {
    store<u32>(links + (<usize> i << 2), i + 1 < blocks ? i + 1 : EMPTY);
  }
  store<u32>(p + BLOCK_SIZE, blockSize);
  store<u32>(p + BLOCKS, blocks);
  store<u32>(p + DATA, <u32> data);
  store<u32>(p + AVAILABLE, blocks);
  atomic.store<u64>(p + HEAD, blocks > 0 ? 0 : <u64> EMPTY);
  atomic.store<u32>(p + MAGIC, POOL_MAGIC);
}

/** True when `p` holds a pool header. */
export function pool_valid(p: usize): bool {
  return atomic.load<u32>(p + MAGIC) == POOL_MAGIC;
}

/** Address of a free block, or -1 when none is free (counted in EXHAUSTIONS). */
export function pool_alloc(p: usize): isize {
  let old = atomic.load<u64>(p + HEAD);
  while (true) {
    const index = <u32> old;
    if (index == EMPTY) {
      atomic.add<u32>(p + EXHAUSTIONS, 1);
      return -1;
    }
    const link = p + LINKS + (<usize> index << 2);
    // May be stale (another Worker took the block meanwhile): then the tag moved on and the
    // CAS below fails.
    const next = atomic.load<u32>(link);
    const seen = atomic.cmpxchg<u64>(p + HEAD, old, nextHead(old, next));
    if (seen == old) {
      atomic.store<u32>(link, TAKEN);
      atomic.sub<u32>(p + AVAILABLE, 1);
      return <isize> (load<u32>(p + DATA) + index * load<u32>(p + BLOCK_SIZE));
    }
    old = seen;
  }
}

/** Returns a block: 0 done, 1 when `block` is not a block of this pool, 2 when it is free. */
export function pool_free(p: usize, block: usize): i32 {
  const data = <usize> load<u32>(p + DATA);
  const size = <usize> load<u32>(p + BLOCK_SIZE);
  if (block < data) return 1;
  const index = (block - data) / size;
  if (index >= <usize> load<u32>(p + BLOCKS) || index * size != block - data) return 1;
  const link = p + LINKS + (index << 2);
  if (atomic.cmpxchg<u32>(link, TAKEN, EMPTY) != TAKEN) return 2;
  let old = atomic.load<u64>(p + HEAD);
  while (true) {
    atomic.store<u32>(link, <u32> old);
    const seen = atomic.cmpxchg<u64>(p + HEAD, old, nextHead(old, <u32> index));
    if (seen == old) break;
    old = seen;
  }
  atomic.add<u32>(p + AVAILABLE, 1);
  return 0;
}
