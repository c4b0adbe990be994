import assert from "node:assert/strict";
import { systemClock } from "../../../src/core/clock.ts";
import { silentLogger } from "../../../src/core/logger.ts";
import { Exchange } from "../../../src/dataplane/exchange.ts";
import { H1Response } from "../../../src/dataplane/http/h1_response.ts";
import { H1ResponseWriter } from "../../../src/dataplane/http/h1_response_writer.ts";

const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const text = (b: Uint8Array) => String.fromCharCode(...b);

Deno.test("H1Response parses its raw field lines when asked for the fields", () => {
  const res = new H1Response(200, bytes("X-A: 1\r\nServer: up\r\n"), null, 100);
  assert.equal(text(res.rawHeaders!), "X-A: 1\r\nServer: up\r\n");
  assert.deepEqual(res.headers, ["x-a", "1", "server", "up"]);
  assert.equal(res.rawHeaders, null, "the fields are the truth from then on");
  res.headSent();
  assert.deepEqual(res.headers, ["x-a", "1", "server", "up"]);
});

Deno.test("H1Response lets go of its raw bytes once its head has been sent", () => {
  const res = new H1Response(204, bytes("X-A: 1\r\n"), null, 100);
  res.headSent();
  assert.equal(res.rawHeaders, null, "the bytes may be reused: the response no longer holds them");
  // Reading the fields now would read whatever the reused bytes hold: refused.
  assert.throws(() => res.headers, /read headers before the head is written/);
});

Deno.test("the HTTP/1.1 writer copies a response's raw field lines and says so", () => {
  const writer = new H1ResponseWriter(
    { write: (p) => Promise.resolve(p.length) },
    silentLogger(systemClock),
    "web",
  );
  const raw = bytes("X-Owner: a\r\n");
  const res = new H1Response(204, raw, null, 100);
  const ex = new Exchange("web", "127.0.0.1:1", 0, 0);
  const n = writer.start(res, "GET", 1, true, ex);
  assert.equal(typeof n, "number");
  raw.fill(0x21); // the scratch buffer carries the next response's fields
  assert.equal(
    text(writer.out.subarray(0, n as number)),
    "HTTP/1.1 204 No Content\r\nX-Owner: a\r\n\r\n",
  );
  assert.equal(res.rawHeaders, null, "headSent was called: the connection may reuse the bytes");
});
