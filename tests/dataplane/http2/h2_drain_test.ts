// Graceful drain of accepted HTTP/2 connections: `serveH2` on real loopback sockets, a raw
// frame-level client, an in-process handler the test answers by hand, and virtual time for
// the PING acknowledgement timeout.
import assert from "node:assert/strict";
import { silentLogger } from "../../../src/core/mod.ts";
import { ConnReader } from "../../../src/net/conn_reader.ts";
import type { Body } from "../../../src/dataplane/http/body.ts";
import { BufferedBody } from "../../../src/dataplane/http/body.ts";
import { serveH2 } from "../../../src/dataplane/http/h2_server.ts";
import type { ProxyResponse } from "../../../src/dataplane/http/message.ts";
import {
  ErrorCode,
  Flag,
  FrameType,
  readU31,
  readU32,
} from "../../../src/dataplane/http2/frame.ts";
import { type Frame, frame, get, post, RawH2, within } from "./_h2_peers.ts";
import { FedBody, HandOffServer } from "../http/_hand_off_server.ts";

const { DATA, GOAWAY, PING } = FrameType;
const MAX_STREAM_ID = 0x7fff_ffff;

const text = new TextEncoder();
const decoder = new TextDecoder();

/** An h2c server (skiff's) on loopback whose handler hands each request to the test. */
class DrainServer extends HandOffServer {
  constructor() {
    super((conn, s) => {
      (conn as Deno.TcpConn).setNoDelay(true); // as skiff's listeners do
      return serveH2(conn, new ConnReader(conn), "127.0.0.1:1", {
        listener: "test",
        clock: s.clock,
        wheel: s.wheel,
        log: silentLogger(s.clock),
        handler: s.handler,
        idleTimeoutMs: 0,
        maxHeaderListSize: 65536,
        onMalformed: () => {},
        drain: s.drain,
      });
    });
  }
}

function ok(body: string): ProxyResponse {
  return { status: 200, headers: [], body: new BufferedBody(text.encode(body)) };
}

async function open(s: DrainServer): Promise<RawH2> {
  const raw = await RawH2.connect(s.port);
  assert.ok(await raw.preface());
  return raw;
}

/** Reads until the next GOAWAY; returns its last stream id and code. */
async function goaway(raw: RawH2, what: string): Promise<{ last: number; code: number }> {
  const f = await raw.until(what, (f) => f.type === GOAWAY);
  return { last: readU31(f.payload, 0), code: readU32(f.payload, 4) };
}

/** Reads until the server's PING (not an acknowledgement). */
function ping(raw: RawH2): Promise<Frame> {
  return raw.until("the drain's PING", (f) => f.type === PING && (f.flags & Flag.ACK) === 0);
}

/** Reads the DATA of stream `id` up to END_STREAM, as text. */
async function body(raw: RawH2, id: number): Promise<string> {
  let out = "";
  await raw.until(`the end of stream ${id}`, (f) => {
    if (f.type !== DATA || f.id !== id) return false;
    out += decoder.decode(f.payload);
    return (f.flags & Flag.END_STREAM) !== 0;
  });
  return out;
}

/** Reads a whole request body as text. */
async function readText(b: Body): Promise<string> {
  let out = "";
  for (let c: Uint8Array | null = b.takeBuffered(); c !== null; c = await b.read()) {
    out += decoder.decode(c, { stream: true });
  }
  return out;
}

Deno.test("h2 drain: two GOAWAYs; streams in flight finish, a stream after the final GOAWAY is refused, then the connection closes", async () => {
  const s = new DrainServer();
  const raw = await open(s);
  try {
    // A long stream (a client-streaming call): its request body is still arriving.
    await raw.send(raw.headers(1, post("/upload"), false), frame(DATA, 0, 1, text.encode("abc")));
    const upload = await s.next();
    const uploaded = readText(upload.req.body!);
    uploaded.catch(() => {}); // awaited below; a failure before then is reported there
    s.drain.start();

    const first = await goaway(raw, "the first GOAWAY");
    assert.deepEqual(first, { last: MAX_STREAM_ID, code: ErrorCode.NO_ERROR });
    const probe = await ping(raw);
    // A stream the client opened before it saw the GOAWAY is still served.
    await raw.send(raw.headers(3, get("/racing")));
    (await s.next()).respond(ok("racing"));
    assert.equal((await raw.response(3))[1], "200");
    assert.equal(await body(raw, 3), "racing");

    await raw.send(frame(PING, Flag.ACK, 0, probe.payload));
    const final = await goaway(raw, "the final GOAWAY");
    assert.deepEqual(final, { last: 3, code: ErrorCode.NO_ERROR });

    // Above the last stream id: refused, never processed (the client may retry it).
    await raw.send(raw.headers(5, get("/late")));
    assert.equal(await raw.rst(5), ErrorCode.REFUSED_STREAM);

    // The long stream goes on both ways after the final GOAWAY.
    await raw.send(frame(DATA, Flag.END_STREAM, 1, text.encode("def")));
    assert.equal(await within("the upload", uploaded), "abcdef");
    const res = new FedBody();
    upload.respond({ status: 200, headers: [], body: res });
    assert.equal((await raw.response(1))[1], "200");
    res.push(text.encode("got "));
    res.push(text.encode("abcdef"));
    res.push(null);
    assert.equal(await body(raw, 1), "got abcdef");

    await raw.closed(); // no stream left: the connection closes
    assert.deepEqual(s.seen, ["/upload", "/racing"]);
  } finally {
    raw.close();
    await s.close();
  }
});

Deno.test("h2 drain: a connection without streams closes after the final GOAWAY", async () => {
  const s = new DrainServer();
  const raw = await open(s);
  try {
    await raw.send(raw.headers(1, get("/one")));
    (await s.next()).respond(ok("one"));
    assert.equal(await body(raw, 1), "one");
    s.drain.start();
    assert.equal((await goaway(raw, "the first GOAWAY")).last, MAX_STREAM_ID);
    await raw.send(frame(PING, Flag.ACK, 0, (await ping(raw)).payload));
    assert.deepEqual(await goaway(raw, "the final GOAWAY"), {
      last: 1,
      code: ErrorCode.NO_ERROR,
    });
    await raw.closed();
  } finally {
    raw.close();
    await s.close();
  }
});

Deno.test("h2 drain: without a PING acknowledgement the final GOAWAY follows a second later", async () => {
  const s = new DrainServer();
  const raw = await open(s);
  try {
    await raw.send(raw.headers(1, get("/one")));
    (await s.next()).respond(ok("one"));
    assert.equal(await body(raw, 1), "one");
    s.drain.start();
    assert.equal((await goaway(raw, "the first GOAWAY")).last, MAX_STREAM_ID);
    await ping(raw); // never acknowledged
    s.clock.advance(1_000 + 10);
    assert.deepEqual(await goaway(raw, "the final GOAWAY"), {
      last: 1,
      code: ErrorCode.NO_ERROR,
    });
    await raw.closed();
  } finally {
    raw.close();
    await s.close();
  }
});
