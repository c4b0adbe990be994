// The response fast path (`scanResponseHead`) and the strict path (`parseResponseHead` +
// `endToEndHeaders`) relay the same fields, also for a field named by the `close` connection
// option (every field a Connection token names is removed).
import assert from "node:assert/strict";
import { findHeadEnd, parseResponseHead } from "../../../src/dataplane/http/h1_head.ts";
import { responseFraming } from "../../../src/dataplane/http/h1_framing.ts";
import { endToEndHeaders } from "../../../src/dataplane/http/hop_by_hop.ts";
import { keptToHeaders, scanResponseHead } from "../../../src/dataplane/http/h1_response_scan.ts";

const LIMITS = { maxHeadBytes: 65536, maxHeaders: 100 };

Deno.test({
  name: "a field named by Connection: close is dropped on the fast path as on the strict one",
  fn() {
    const text = "HTTP/1.1 200 OK\r\nConnection: close\r\nClose: bye\r\nX-Keep: 1\r\n" +
      "Content-Length: 2\r\n\r\n";
    const buf = Uint8Array.from(text, (c) => c.charCodeAt(0));
    const end = findHeadEnd(buf, 0, buf.length, LIMITS.maxHeadBytes);
    const strict = parseResponseHead(buf, 0, end, LIMITS);
    const framing = responseFraming(strict.minor, strict.status, strict.headers, false);
    const strictFields = endToEndHeaders(strict.headers, framing.connection);
    assert.deepEqual(strictFields, ["x-keep", "1"]);
    const fast = scanResponseHead(buf, 0, buf.length, LIMITS);
    if (fast === null) return; // left to the strict parser: no disagreement
    assert.deepEqual(keptToHeaders(fast.kept, 100), strictFields);
  },
});
