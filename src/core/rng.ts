/** A source of uniform random numbers in [0, 1). Injected so tests and simulations are seeded. */
export type Rng = () => number;

/** The runtime's `Math.random`, for production. */
export const mathRng: Rng = Math.random;

/**
 * A small, fast seeded generator (mulberry32): the same seed gives the same sequence.
 *
 * @example
 * ```ts
 * const rng = seededRng(42);
 * rng(); // always the same first value for seed 42
 * ```
 */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
