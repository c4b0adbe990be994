import assert from "node:assert/strict";
import { DynamicTable } from "../../../src/dataplane/http2/_dynamic_table.ts";

/** The table's entries, newest first. */
function entries(table: DynamicTable): string[] {
  const out: string[] = [];
  for (let i = 1; i <= table.length; i++) out.push(table.name(i), table.value(i));
  return out;
}

Deno.test("entries are indexed newest first and evicted oldest first", () => {
  const table = new DynamicTable(100);
  table.insert("a", "1"); // 34
  table.insert("b", "22"); // 35
  assert.deepEqual(entries(table), ["b", "22", "a", "1"]);
  assert.equal(table.size, 69);
  table.insert("c", "333"); // 36: "a" goes
  assert.deepEqual(entries(table), ["c", "333", "b", "22"]);
  assert.equal(table.size, 71);
  table.setCapacity(36);
  assert.deepEqual(entries(table), ["c", "333"]);
  table.insert("dd", "4444"); // 38 > 36: empties the table
  assert.deepEqual(entries(table), []);
  assert.equal(table.size, 0);
});

Deno.test("the ring grows past its first 16 slots and keeps the order", () => {
  const table = new DynamicTable(100 * 40);
  for (let i = 0; i < 100; i++) table.insert(`n${i % 7}`, `${i}`.padStart(3, "0"));
  assert.equal(table.length, 100);
  for (let i = 1; i <= 100; i++) assert.equal(table.value(i), `${100 - i}`.padStart(3, "0"));
  // Now wrap around the grown ring.
  for (let i = 100; i < 150; i++) table.insert(`n${i % 7}`, `${i}`);
  assert.equal(table.value(1), "149");
  assert.equal(table.name(1), `n${149 % 7}`);
});

Deno.test("find answers exact matches, then name matches, and forgets evicted entries", () => {
  const table = new DynamicTable(3 * 34, true);
  table.insert("a", "1");
  table.insert("b", "1");
  table.insert("a", "2");
  assert.equal(table.find("a", "2"), 1);
  assert.equal(table.find("b", "1"), 2);
  assert.equal(table.find("a", "1"), 3);
  assert.equal(table.find("a", "9"), -1, "newest entry named a");
  assert.equal(table.find("c", "1"), 0);
  table.insert("a", "1"); // evicts the oldest a: 1, re-adds it as newest
  assert.equal(table.find("a", "1"), 1);
  table.insert("c", "1"); // evicts b
  assert.equal(table.find("b", "1"), 0);
  table.insert("c", "2"); // evicts a: 2
  assert.equal(table.find("a", "2"), -3, "a: 1 is still there");
  table.setCapacity(0);
  assert.equal(table.find("a", "1"), 0);
  assert.equal(table.find("c", "2"), 0);
});
