import assert from "node:assert/strict";
import { retryAllowed } from "../../../src/dataplane/resilience/mod.ts";

Deno.test("retryAllowed follows the table", () => {
  const table: [requests: number, retries: number, percent: number, min: number, ok: boolean][] = [
    // A quiet cluster may still retry, up to the floor.
    [0, 0, 20, 3, true],
    [0, 2, 20, 3, true],
    [0, 3, 20, 3, false],
    [1, 0, 20, 0, false], // no floor: 20% of one request is no retry
    // The percentage takes over above the floor.
    [100, 19, 20, 3, true],
    [100, 20, 20, 3, false],
    [10, 2, 20, 3, true], // 2 < floor 3
    [10, 3, 20, 3, false],
    // Rounding down: 20% of 9 is 1.8 → 1 retry.
    [9, 0, 20, 0, true],
    [9, 1, 20, 0, false],
    [14, 1, 20, 0, true], // 2.8 → 2
    [14, 2, 20, 0, false],
    [15, 2, 20, 0, true], // exactly 3
    [15, 3, 20, 0, false],
    // Fractional percentages, including products that binary floating point puts just
    // below the whole number (1500 × 4.6 / 100 = 68.99999999999999).
    [1500, 68, 4.6, 0, true],
    [1500, 69, 4.6, 0, false],
    [750, 68, 9.2, 0, true],
    [1375, 153, 11.2, 0, true],
    [1000, 4, 0.5, 0, true],
    [1000, 5, 0.5, 0, false],
    // The extremes.
    [50, 49, 100, 0, true],
    [50, 50, 100, 0, false],
    [1_000_000, 0, 0, 0, false],
    [1_000_000, 4, 0, 5, true],
  ];
  for (const [requests, retries, percent, min, ok] of table) {
    assert.equal(
      retryAllowed(requests, retries, percent, min),
      ok,
      `${retries} retries in flight of ${requests} requests, ${percent}%, floor ${min}`,
    );
  }
});
