// Exact bytes from a raw server against skiff's client H2Connection: malformed responses
// fail their stream (never hang it), protocol violations end the connection, and a
// response completed early survives the server's RST_STREAM NO_ERROR.
import assert from "node:assert/strict";
import {
  ErrorCode,
  Flag,
  FrameType,
  H2StreamError,
  Setting,
} from "../../../src/dataplane/http2/frame.ts";
import {
  connectClient,
  frame,
  get,
  post,
  RawH2,
  readAll,
  type TestClient,
  u32,
  within,
} from "./_h2_peers.ts";

const { DATA, HEADERS, RST_STREAM, SETTINGS } = FrameType;
const { END_STREAM, END_HEADERS } = Flag;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** A raw server: the test's side of one connection from a skiff client. */
async function withRawServer(
  fn: (server: RawH2, client: TestClient) => Promise<void>,
): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const client = await connectClient((listener.addr as Deno.NetAddr).port);
  const server = new RawH2(await accepted);
  listener.close();
  try {
    await server.readPreface();
    await server.until("the client's SETTINGS", (f) => f.type === SETTINGS && f.flags === 0);
    await server.send(frame(SETTINGS, 0, 0), frame(SETTINGS, Flag.ACK, 0));
    await fn(server, client);
  } finally {
    server.close();
    await client.close();
  }
}

/** A response HEADERS frame from the raw server. */
function respond(server: RawH2, id: number, fields: string[], end: boolean): Uint8Array {
  return frame(HEADERS, END_HEADERS | (end ? END_STREAM : 0), id, server.encoder.encode(fields));
}

async function rejectsWith(p: Promise<unknown>, code: number, what: string): Promise<void> {
  const err = await within(what, p.then(() => null, (e) => e));
  assert.ok(err instanceof H2StreamError, `${what}: expected an H2StreamError, got ${err}`);
  assert.equal(err.code, code, `${what}: ${err.message}`);
}

Deno.test("client: interim responses are skipped; one with END_STREAM fails the stream", async () => {
  await withRawServer(async (server, client) => {
    const a = client.h2.request(get("/a"), true);
    const b = client.h2.request(get("/b"), true);
    await server.until("stream 3", (f) => f.type === HEADERS && f.id === 3);
    await server.send(
      respond(server, 1, [":status", "103", "link", "</x>"], false),
      respond(server, 1, [":status", "200"], false),
      frame(DATA, END_STREAM, 1, enc.encode("ok")),
      respond(server, 3, [":status", "100"], true),
    );
    assert.equal((await within("a head", a.head()))[1], "200");
    assert.equal(dec.decode(await within("a body", readAll(a))), "ok");
    await rejectsWith(b.head(), ErrorCode.PROTOCOL_ERROR, "b head");
    assert.equal(await server.rst(3), ErrorCode.PROTOCOL_ERROR);
  });
});

const badResponses: [string, (server: RawH2) => Uint8Array[], "head" | "read"][] = [
  [
    "a field name with CR LF",
    (s) => [respond(s, 1, [":status", "200", "x\r\ny", "1"], true)],
    "head",
  ],
  ["an uppercase field name", (s) => [respond(s, 1, [":status", "200", "X-A", "1"], true)], "head"],
  ["a status of two digits", (s) => [respond(s, 1, [":status", "20"], true)], "head"],
  ["a missing :status", (s) => [respond(s, 1, ["x-a", "1"], true)], "head"],
  ["status 101", (s) => [respond(s, 1, [":status", "101"], false)], "head"],
  ["a request pseudo-header field", (s) => [
    respond(s, 1, [":status", "200", ":path", "/"], true),
  ], "head"],
  ["more DATA than its content-length", (s) => [
    respond(s, 1, [":status", "200", "content-length", "2"], false),
    frame(DATA, END_STREAM, 1, enc.encode("too long")),
  ], "read"],
  ["less DATA than its content-length", (s) => [
    respond(s, 1, [":status", "200", "content-length", "20"], false),
    frame(DATA, END_STREAM, 1, enc.encode("short")),
  ], "read"],
  ["a content-length and no body", (s) => [
    respond(s, 1, [":status", "200", "content-length", "20"], true),
  ], "head"],
];

for (const [name, build, where] of badResponses) {
  Deno.test(`client: a response with ${name} fails its stream`, async () => {
    await withRawServer(async (server, client) => {
      const s = client.h2.request(get("/"), true);
      await server.until("the request", (f) => f.type === HEADERS && f.id === 1);
      await server.send(...build(server));
      if (where === "head") await rejectsWith(s.head(), ErrorCode.PROTOCOL_ERROR, "head()");
      else {
        await within("head()", s.head());
        await rejectsWith(readAll(s), ErrorCode.PROTOCOL_ERROR, "read()");
      }
      // The connection goes on.
      const next = client.h2.request(get("/next"), true);
      await server.until("the next request", (f) => f.type === HEADERS && f.id === 3);
      await server.send(respond(server, 3, [":status", "204"], true));
      assert.equal((await within("next head", next.head()))[1], "204");
    });
  });
}

Deno.test("client: a HEAD response keeps its content-length without a body", async () => {
  await withRawServer(async (server, client) => {
    const s = client.h2.request([":method", "HEAD", ...get("/").slice(2)], true);
    await server.until("the request", (f) => f.type === HEADERS && f.id === 1);
    await server.send(respond(server, 1, [":status", "200", "content-length", "1234"], true));
    const head = await within("head()", s.head());
    assert.deepEqual(head, [":status", "200", "content-length", "1234"]);
    assert.equal((await within("body", readAll(s))).length, 0);
  });
});

Deno.test("client: a response completed early survives RST_STREAM NO_ERROR", async () => {
  await withRawServer(async (server, client) => {
    const s = client.h2.request(post("/upload"), false);
    const uploading = s.write(new Uint8Array(1 << 20)).then(() => null, (e) => e);
    await server.until("the request", (f) => f.type === HEADERS && f.id === 1);
    // RFC 9113 §8.1: the server answers before the request ends and stops it with NO_ERROR.
    await server.send(
      respond(server, 1, [":status", "413"], false),
      frame(DATA, END_STREAM, 1, enc.encode("too large")),
      frame(RST_STREAM, 0, 1, u32(ErrorCode.NO_ERROR)),
    );
    assert.equal((await within("head()", s.head()))[1], "413");
    assert.equal(dec.decode(await within("body", readAll(s))), "too large");
    const err = await within("the upload to stop", uploading);
    assert.ok(err instanceof H2StreamError, "the rest of the upload is refused");
    assert.equal(err.code, ErrorCode.NO_ERROR);
  });
});

const clientConnectionErrors: [string, (server: RawH2) => Uint8Array[]][] = [
  ["SETTINGS_ENABLE_PUSH of 1", () => [frame(SETTINGS, 0, 0, [0, Setting.ENABLE_PUSH, ...u32(1)])]],
  ["HEADERS on a stream the client never opened", (s) => [
    respond(s, 2, [":status", "200"], true),
  ]],
  ["DATA on an idle stream", () => [frame(DATA, 0, 9, [1])]],
];

for (const [name, build] of clientConnectionErrors) {
  Deno.test(`client: ${name} ends the connection with PROTOCOL_ERROR`, async () => {
    await withRawServer(async (server, client) => {
      const s = client.h2.request(get("/"), true);
      await server.until("the request", (f) => f.type === HEADERS && f.id === 1);
      await server.send(...build(server));
      const g = await server.goaway();
      assert.equal(g.code, ErrorCode.PROTOCOL_ERROR);
      await rejectsWith(s.head(), ErrorCode.CANCEL, "the open stream");
      await within("the client to close", client.run);
    });
  });
}

Deno.test("client: ending a stream whose window went negative sends an empty DATA frame", async () => {
  await withRawServer(async (server, client) => {
    const s = client.h2.request(post("/upload"), false);
    await s.write(new Uint8Array(65_535)); // the whole default window
    let got = 0;
    await server.until(
      "the upload",
      (f) => f.type === DATA && (got += f.payload.length) === 65_535,
    );
    // RFC 9113 §6.9.2: a smaller initial window can make a stream's window negative.
    await server.send(frame(SETTINGS, 0, 0, [0, Setting.INITIAL_WINDOW_SIZE, ...u32(0)]));
    await server.until("the ACK", (f) => f.type === SETTINGS && f.flags === Flag.ACK);
    await within("end()", s.end());
    const last = await server.until("END_STREAM", (f) => f.type === DATA);
    assert.equal(last.flags, END_STREAM);
    assert.equal(last.payload.length, 0);
    await server.send(respond(server, 1, [":status", "204"], true));
    assert.equal((await within("head()", s.head()))[1], "204");
  });
});

Deno.test("client: a write waiting on the connection window rejects on RST_STREAM", async () => {
  await withRawServer(async (server, client) => {
    // A big stream window, the default 65535-octet connection window, never reopened.
    await server.send(frame(SETTINGS, 0, 0, [0, Setting.INITIAL_WINDOW_SIZE, ...u32(1 << 20)]));
    await server.until("the ACK", (f) => f.type === SETTINGS && f.flags === Flag.ACK);
    const s = client.h2.request(post("/upload"), false);
    const writing = rejectsWith(s.write(new Uint8Array(1 << 20)), ErrorCode.CANCEL, "write()");
    let got = 0;
    await server.until(
      "the window's worth",
      (f) => f.type === DATA && (got += f.payload.length) === 65_535,
    );
    await server.send(frame(RST_STREAM, 0, 1, u32(ErrorCode.CANCEL)));
    await writing;
  });
});
