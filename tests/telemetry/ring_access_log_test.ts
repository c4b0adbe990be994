import assert from "node:assert/strict";
import { RingAccessLog } from "../../src/telemetry/mod.ts";
import { Ring, SharedWasm } from "../../src/wasm/mod.ts";

Deno.test("RingAccessLog pushes one line per record and leaves its reserve free", () => {
  const ring = Ring.create(SharedWasm.create(), 4096);
  const drops: number[] = [];
  const log = new RingAccessLog(ring, 2, { reserveBytes: 1024, onDrop: (n) => drops.push(n) });
  const line = JSON.stringify({ path: "/x".padEnd(100, "x") });
  let written = 0;
  while (drops.length === 0) {
    log.writeLine(line);
    if (drops.length === 0) written++;
  }
  assert.ok(written > 0);
  assert.ok(ring.used <= ring.capacity - 1024, `the reserve stays free: used ${ring.used}`);
  assert.equal(log.dropped, 1);
  // What went in comes out whole, as type-2 records.
  const decoder = new TextDecoder();
  for (let i = 0; i < written; i++) {
    const rec = ring.pop()!;
    assert.equal(rec.type, 2);
    assert.equal(decoder.decode(rec.payload), line);
  }
  assert.equal(ring.pop(), null);
  // Other records still fit in the reserve; a closed log drops everything.
  assert.ok(ring.push(3, new Uint8Array(512)));
  log.close();
  log.writeLine("{}");
  assert.equal(log.dropped, 2);
});
