import assert from "node:assert/strict";
import { HeadRing, type RecordedHead } from "../../../src/dataplane/http/head_ring.ts";

/** The paths held, oldest first. */
function paths(ring: HeadRing): string[] {
  return ring.heads().map((h) => h.path);
}

Deno.test("HeadRing returns what was recorded, oldest first, without the query string", () => {
  const ring = new HeadRing(4);
  ring.record("ingress", "GET", "api.local:8080", "/v1/users?id=1&token=x", ["x-a", "1"], "api");
  ring.record("admin", "POST", "svc", "/missing", [], undefined);
  assert.deepEqual(
    ring.heads(),
    [
      {
        listener: "ingress",
        method: "GET",
        authority: "api.local:8080",
        path: "/v1/users",
        headers: ["x-a", "1"],
        route: "api",
      },
      {
        listener: "admin",
        method: "POST",
        authority: "svc",
        path: "/missing",
        headers: [],
        route: undefined,
      },
    ] satisfies RecordedHead[],
  );
  assert.equal(ring.size, 2);
});

Deno.test("HeadRing keeps the last `capacity` heads in order as it wraps", () => {
  const table: [capacity: number, recorded: number, kept: string[]][] = [
    [3, 0, []],
    [3, 2, ["/0", "/1"]],
    [3, 3, ["/0", "/1", "/2"]],
    [3, 4, ["/1", "/2", "/3"]],
    [3, 7, ["/4", "/5", "/6"]],
    [3, 9, ["/6", "/7", "/8"]], // exactly three laps
    [1, 5, ["/4"]],
  ];
  for (const [capacity, recorded, kept] of table) {
    const ring = new HeadRing(capacity);
    for (let i = 0; i < recorded; i++) ring.record("l", "GET", "h", `/${i}`, ["n", `${i}`], "r");
    assert.deepEqual(paths(ring), kept, `capacity ${capacity}, ${recorded} recorded`);
    assert.deepEqual(
      ring.heads().map((h) => h.headers[1]),
      kept.map((p) => p.slice(1)),
      "each head keeps its own headers",
    );
    assert.equal(ring.size, kept.length);
  }
});

Deno.test("HeadRing is not changed by later edits of the header list", () => {
  const ring = new HeadRing(2);
  const headers = ["x-tenant", "blue", "connection", "keep-alive"];
  ring.record("l", "GET", "h", "/", headers, "r");
  headers[1] = "green"; // the proxy edits the list in place after routing
  headers.push("x-added", "1");
  headers.splice(2, 2);
  assert.deepEqual(ring.heads()[0].headers, ["x-tenant", "blue", "connection", "keep-alive"]);
});

Deno.test("HeadRing heads() is a snapshot that later records do not rewrite", () => {
  const ring = new HeadRing(1);
  ring.record("l", "GET", "h", "/old", ["x-v", "old", "x-extra", "1"], "r");
  const snapshot = ring.heads();
  ring.record("l", "PUT", "h", "/new", ["x-v", "new"], undefined); // reuses the same slot
  assert.deepEqual(snapshot[0].headers, ["x-v", "old", "x-extra", "1"]);
  assert.equal(snapshot[0].path, "/old");
  assert.deepEqual(ring.heads()[0].headers, ["x-v", "new"], "a shorter list leaves no tail");
});

Deno.test("HeadRing clear() forgets every head and records again from empty", () => {
  const ring = new HeadRing(2);
  for (const p of ["/a", "/b", "/c"]) ring.record("l", "GET", "h", p, ["k", "v"], "r");
  ring.clear();
  assert.deepEqual(ring.heads(), []);
  assert.equal(ring.size, 0);
  ring.record("l", "GET", "h", "/d", [], "r");
  assert.deepEqual(paths(ring), ["/d"]);
  assert.deepEqual(ring.heads()[0].headers, []);
});

Deno.test("HeadRing refuses a capacity that is not a positive integer", () => {
  for (const capacity of [0, -1, 1.5, NaN]) {
    assert.throws(() => new HeadRing(capacity), RangeError, `${capacity}`);
  }
  assert.equal(new HeadRing(5).capacity, 5);
});
