/**
 * Picks the candidate closest to a misspelt word, for "did you mean" hints.
 *
 * Closeness is the optimal-string-alignment (restricted Damerau–Levenshtein) distance on
 * lower-cased text: a swapped pair of letters counts as one edit and case differences are
 * free. A candidate is only offered when it is close enough to be a plausible typo — at most
 * 40% of the longer word's length in edits (at least one), and fewer edits than `word` has
 * letters. Ties go to the earlier candidate.
 *
 * @param word the unknown word as the user wrote it
 * @param candidates the words that would have been accepted
 * @returns the best candidate, or `undefined` when none is close enough
 * @example
 * ```ts
 * suggest("retires", ["match", "retry", "timeout"]); // "retry"
 * suggest("zzz", ["match", "retry"]); // undefined
 * ```
 */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const d = editDistance(lower, candidate.toLowerCase());
    const limit = Math.max(1, Math.round(Math.max(word.length, candidate.length) * 0.4));
    if (d <= limit && d < word.length && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * The optimal-string-alignment distance between two strings: the fewest insertions,
 * deletions, substitutions and swaps of two adjacent characters that turn `a` into `b`
 * (no substring is edited twice). Compares UTF-16 code units, case-sensitively.
 *
 * @example
 * ```ts
 * editDistance("retry", "rerty"); // 1
 * editDistance("kitten", "sitting"); // 3
 * ```
 */
export function editDistance(a: string, b: string): number {
  // Three rolling rows: two back (for swaps), previous, current.
  let twoBack = new Array<number>(b.length + 1).fill(0);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  let cur = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, twoBack[j - 2] + 1);
      }
      cur[j] = d;
    }
    [twoBack, prev, cur] = [prev, cur, twoBack];
  }
  return prev[b.length];
}
