import assert from "node:assert/strict";
import { H1Response } from "../../../src/dataplane/http/h1_response.ts";

const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

Deno.test("H1Response parses its raw field lines when asked for the fields", () => {
  const res = new H1Response(200, bytes("X-A: 1\r\nServer: up\r\n"), null, 100);
  assert.deepEqual([...res.rawHeaders!], [...bytes("X-A: 1\r\nServer: up\r\n")]);
  assert.deepEqual(res.headers, ["x-a", "1", "server", "up"]);
  assert.equal(res.rawHeaders, null, "the fields are the truth from then on");
  res.headSent();
  assert.deepEqual(res.headers, ["x-a", "1", "server", "up"]);
});

Deno.test("H1Response lets go of its raw bytes once its head has been sent", () => {
  const raw = bytes("X-A: 1\r\n");
  const res = new H1Response(204, raw, null, 100);
  res.headSent();
  assert.equal(res.rawHeaders, null, "the bytes may be reused: the response no longer holds them");
  raw.fill(0x41); // reused for another head
  assert.deepEqual(res.headers, []);
});
