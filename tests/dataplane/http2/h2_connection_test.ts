// skiff's HTTP/2 client and server talking to each other over real loopback TCP: large
// bodies through flow control both ways, trailers, the peer's stream limit, resets from
// either side, GOAWAY, idle timeouts, and the receive window surviving unread bodies.
import assert from "node:assert/strict";
import { randomBytes, sha256, waitFor } from "../../_harness/mod.ts";
import { ErrorCode, H2StreamError } from "../../../src/dataplane/http2/frame.ts";
import type { H2Stream } from "../../../src/dataplane/http2/h2_stream.ts";
import {
  connectClient,
  echo,
  get,
  post,
  readAll,
  startServer,
  within,
  writeAll,
} from "./_h2_peers.ts";

const MiB = 1024 * 1024;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** The value of field `name` in a flat list. */
function field(fields: string[] | null, name: string): string | undefined {
  if (!fields) return undefined;
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** A promise and a way to settle it from a callback. */
function signal<T = void>() {
  return Promise.withResolvers<T>();
}

/** Settles with the rejection reason of `p` (and fails if it resolves). */
async function rejection(p: Promise<unknown>, what: string): Promise<H2StreamError> {
  const err = await within(what, p.then(() => null, (e) => e));
  assert.ok(err instanceof H2StreamError, `${what} should reject with an H2StreamError`);
  return err;
}

for (
  const [label, windows] of [
    ["65535-octet windows", { initialWindowSize: 65_535, connectionWindowSize: 65_535 }],
    ["the default windows", {}],
  ] as const
) {
  Deno.test(`5 MiB bodies and trailers go both ways byte-exact with ${label}`, async () => {
    const responses = new Map<string, Uint8Array>();
    const server = startServer({
      settings: windows,
      onStream: (stream) => {
        (async () => {
          const body = await readAll(stream);
          const path = field(stream.headers, ":path")!;
          const out = responses.get(path)!;
          stream.sendHeaders([":status", "200", "x-request-sha256", sha256(body)], false);
          await writeAll(stream, out, [
            "x-got-trailer",
            field(stream.trailers, "x-request-trailer") ?? "none",
            "x-response-sha256",
            sha256(out),
          ]);
        })().catch(() => stream.reset());
      },
    });
    const client = await connectClient(server.port, windows);
    try {
      // Two streams at once share the connection window in both directions.
      const results = await within(
        "two 5 MiB exchanges",
        Promise.all([1, 2].map(async (i) => {
          const up = randomBytes(5 * MiB);
          const down = randomBytes(5 * MiB + i);
          responses.set(`/big/${i}`, down);
          const s = client.h2.request(post(`/big/${i}`), false);
          const sending = writeAll(s, up, ["x-request-trailer", `t${i}`]);
          const head = await s.head();
          const body = await readAll(s);
          await sending;
          return { i, up, down, head, body, trailers: s.trailers };
        })),
      );
      for (const r of results) {
        assert.deepEqual(field(r.head, ":status"), "200");
        assert.deepEqual(field(r.head, "x-request-sha256"), sha256(r.up), "request body");
        assert.deepEqual(r.body.length, r.down.length);
        assert.deepEqual(sha256(r.body), sha256(r.down), "response body");
        assert.deepEqual(field(r.trailers, "x-got-trailer"), `t${r.i}`, "request trailers");
        assert.deepEqual(
          field(r.trailers, "x-response-sha256"),
          sha256(r.down),
          "response trailers",
        );
      }
    } finally {
      await client.close();
      await server.close();
    }
  });
}

Deno.test("a request of headers and trailers only gets its trailers echoed", async () => {
  const server = startServer();
  const client = await connectClient(server.port);
  try {
    const s = client.h2.request(post("/t"), false);
    s.sendHeaders(["x-a", "1", "grpc-status", "0"], true);
    const head = await within("response head", s.head());
    assert.deepEqual(field(head, "x-len"), "0");
    assert.deepEqual(await within("response body", readAll(s)), new Uint8Array(0));
    assert.deepEqual(s.trailers, ["x-a", "1", "grpc-status", "0"]);
  } finally {
    await client.close();
    await server.close();
  }
});

for (const limit of [100, 10]) {
  Deno.test(`300 requests respect the server's limit of ${limit} concurrent streams`, async () => {
    let active = 0;
    let maxActive = 0;
    const server = startServer({
      settings: { maxConcurrentStreams: limit },
      onStream: (stream, conn) => {
        active++;
        maxActive = Math.max(maxActive, conn.activeStreams);
        (async () => {
          const body = await readAll(stream);
          stream.sendHeaders([":status", "200"], false);
          await stream.write(body, true);
        })().catch(() => stream.reset()).finally(() => active--);
      },
    });
    const client = await connectClient(server.port);
    const h2 = client.h2;
    try {
      // One exchange first: the server's SETTINGS (sent before its first response) are in.
      const warm = h2.request(get("/warm"), true);
      await within("warm-up", readAll(warm));
      maxActive = 0;

      const inflight = new Set<Promise<void>>();
      const bodies: string[] = [];
      let waits = 0;
      for (let i = 0; i < 300; i++) {
        while (!h2.available) {
          // Full: exactly the peer's limit is open, and request() refuses.
          assert.deepEqual(h2.activeStreams, limit);
          const err = assertThrowsStream(() => h2.request(get("/over"), true));
          assert.deepEqual(err.code, ErrorCode.REFUSED_STREAM);
          waits++;
          await within("a stream to finish", Promise.race(inflight));
        }
        const s = h2.request(post(`/c/${i}`), false);
        const p = (async () => {
          await s.write(enc.encode(`req-${i}`), true);
          const head = await s.head();
          assert.deepEqual(field(head, ":status"), "200");
          bodies[i] = dec.decode(await readAll(s));
        })();
        inflight.add(p);
        p.finally(() => inflight.delete(p));
      }
      await within("all 300 responses", Promise.all(inflight));
      for (let i = 0; i < 300; i++) assert.deepEqual(bodies[i], `req-${i}`);
      assert.ok(waits > 0, "the client never had to wait for a free stream");
      assert.deepEqual(maxActive, limit, "the server saw the limit reached, never passed");
      assert.deepEqual(active, 0);
    } finally {
      await client.close();
      await server.close();
    }
  });
}

Deno.test("before the server's SETTINGS arrive a client opens at most 100 streams", async () => {
  const server = startServer({ settings: { maxConcurrentStreams: 1000 } });
  const client = await connectClient(server.port);
  const h2 = client.h2;
  try {
    // Nothing has been read from the socket yet (no event-loop turn since connecting).
    const streams: H2Stream[] = [];
    while (h2.available && streams.length < 1000) streams.push(h2.request(get("/"), true));
    assert.equal(streams.length, 100);
    await within("the responses", Promise.all(streams.map((s) => readAll(s))));
    // Now the server's own limit applies.
    while (h2.available && streams.length < 1000) streams.push(h2.request(get("/"), true));
    assert.equal(streams.length, 1000);
    await within("the responses", Promise.all(streams.map((s) => readAll(s))));
  } finally {
    await client.close();
    await server.close();
  }
});

function assertThrowsStream(fn: () => unknown): H2StreamError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof H2StreamError);
    return err;
  }
  throw new Error("expected an H2StreamError");
}

Deno.test("a client reset rejects the server's pending read() and calls its onFail", async () => {
  const got = signal<H2Stream>();
  const server = startServer({ onStream: (s) => got.resolve(s) });
  const client = await connectClient(server.port);
  try {
    const s = client.h2.request(post("/r"), false);
    const clientFailed = signal<H2StreamError>();
    s.onFail = (e) => clientFailed.resolve(e);
    const clientHead = rejection(s.head(), "client head");
    const serverStream = await within("the stream at the server", got.promise);
    const serverFailed = signal<H2StreamError>();
    serverStream.onFail = (e) => serverFailed.resolve(e);
    const pendingRead = rejection(serverStream.read(), "server read");
    const pendingHead = serverStream.head(); // already resolved: the request head
    assert.deepEqual(field(await pendingHead, ":path"), "/r");

    s.reset(ErrorCode.CANCEL);
    assert.deepEqual((await pendingRead).code, ErrorCode.CANCEL);
    assert.deepEqual((await within("server onFail", serverFailed.promise)).code, ErrorCode.CANCEL);
    // The resetting side's own waiters settle too.
    assert.deepEqual((await clientHead).code, ErrorCode.CANCEL);
    assert.deepEqual((await within("client onFail", clientFailed.promise)).code, ErrorCode.CANCEL);
    await assert.rejects(() => s.write(enc.encode("late")), H2StreamError);
    await waitFor(
      "both sides to drop the stream",
      () => client.h2.activeStreams === 0 && server.conns[0].activeStreams === 0,
    );
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("a server reset rejects the client's pending head() and read()", async () => {
  const streams: H2Stream[] = [];
  const arrived = signal();
  const server = startServer({
    onStream: (s) => {
      if (field(s.headers, ":path") === "/with-head") s.sendHeaders([":status", "200"], false);
      streams.push(s);
      if (streams.length === 2) arrived.resolve();
    },
  });
  const client = await connectClient(server.port);
  try {
    const a = client.h2.request(get("/no-head"), true);
    const b = client.h2.request(get("/with-head"), true);
    const aFailed = signal<H2StreamError>();
    a.onFail = (e) => aFailed.resolve(e);
    const aHead = rejection(a.head(), "head()");
    await within("both streams at the server", arrived.promise);
    assert.deepEqual(field(await within("b head", b.head()), ":status"), "200");
    const bRead = rejection(b.read(), "read()");

    for (const s of streams) s.reset(ErrorCode.INTERNAL_ERROR);
    assert.deepEqual((await aHead).code, ErrorCode.INTERNAL_ERROR);
    assert.deepEqual((await within("onFail", aFailed.promise)).code, ErrorCode.INTERNAL_ERROR);
    assert.deepEqual((await bRead).code, ErrorCode.INTERNAL_ERROR);
  } finally {
    await client.close();
    await server.close();
  }
});

for (
  const [blocked, settings] of [
    ["the stream window", { initialWindowSize: 65_535 }],
    ["the connection window", { initialWindowSize: 4 * MiB, connectionWindowSize: 65_535 }],
  ] as const
) {
  Deno.test(`a write waiting on ${blocked} rejects when the peer resets`, async () => {
    const got = signal<H2Stream>();
    // The server never reads the upload: the client runs out of window.
    const server = startServer({
      settings,
      onStream: (s) => field(s.headers, ":path") === "/" ? echo(s) : got.resolve(s),
    });
    const client = await connectClient(server.port);
    try {
      await within("warm-up", readAll(client.h2.request(get("/"), true)));
      const s = client.h2.request(post("/upload"), false);
      const writing = rejection(s.write(randomBytes(MiB)), "the blocked write");
      const serverStream = await within("the upload at the server", got.promise);
      await waitFor("the window to fill", () => serverStream.bytesIn === 65_535);
      serverStream.reset(ErrorCode.CANCEL);
      assert.deepEqual((await writing).code, ErrorCode.CANCEL);
    } finally {
      await client.close();
      await server.close();
    }
  });
}

Deno.test("a connection that dies settles every pending head, read and write", async () => {
  const streams: H2Stream[] = [];
  const server = startServer({
    settings: { initialWindowSize: 65_535 },
    onStream: (s) => {
      const path = field(s.headers, ":path");
      if (path === "/") return void echo(s);
      streams.push(s);
      if (path === "/head") s.sendHeaders([":status", "200"], false);
    },
  });
  const client = await connectClient(server.port);
  try {
    await within("warm-up", readAll(client.h2.request(get("/"), true)));
    const a = client.h2.request(get("/none"), true);
    const b = client.h2.request(get("/head"), true);
    const c = client.h2.request(post("/upload"), false);
    const failures: number[] = [];
    for (const s of [a, b, c]) s.onFail = (e) => failures.push(e.code);
    const head = rejection(a.head(), "head()");
    await within("b head", b.head());
    const read = rejection(b.read(), "read()");
    const write = rejection(c.write(randomBytes(MiB)), "write()");
    await waitFor("all three at the server", () => streams.length === 3);
    await waitFor("the upload to stall", () => streams[2].bytesIn === 65_535);

    server.conns[0].close();
    await head;
    await read;
    await write;
    await within("the client connection to end", client.run);
    assert.deepEqual(failures.length, 3);
    assert.ok(client.h2.closed);
    assert.deepEqual(client.h2.available, false);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("a header the encoder cannot send fails the stream and closes the connection", async () => {
  const thrown = signal<unknown>();
  const server = startServer({
    onStream: (s) => {
      try {
        s.sendHeaders([":status", "200", "x-price", "5 \u20ac"], true); // not Latin-1
        thrown.resolve(null);
      } catch (err) {
        thrown.resolve(err);
      }
    },
  });
  const client = await connectClient(server.port);
  try {
    const head = rejection(client.h2.request(get("/"), true).head(), "head()");
    const err = await within("the handler", thrown.promise);
    assert.ok(err instanceof H2StreamError, `sendHeaders threw ${err}`);
    assert.equal(err.code, ErrorCode.INTERNAL_ERROR);
    await head;
    // The encoder may be out of step with the peer: the connection must not go on.
    await within("the server connection to close", server.conns[0].done);
    assert.equal(server.conns[0].closeReason?.code, ErrorCode.INTERNAL_ERROR);
    await within("the client connection to close", client.run);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("GOAWAY refuses the streams above its last id and lets the others finish", async () => {
  const got: H2Stream[] = [];
  const two = signal();
  const server = startServer({
    onStream: (s) => {
      got.push(s);
      if (got.length === 2) two.resolve();
      (async () => {
        const body = await readAll(s);
        s.sendHeaders([":status", "200"], false);
        await s.write(body, true);
      })().catch(() => {});
    },
  });
  const client = await connectClient(server.port);
  try {
    const s1 = client.h2.request(post("/1"), false);
    const s3 = client.h2.request(post("/3"), false);
    await within("streams 1 and 3 at the server", two.promise);
    // The server's GOAWAY (last id 3) is on its way when stream 5 goes out.
    server.conns[0].shutdown();
    const s5 = client.h2.request(post("/5"), false);
    assert.deepEqual(s5.id, 5);
    const refused = await rejection(s5.head(), "stream 5");
    assert.deepEqual(refused.code, ErrorCode.REFUSED_STREAM);
    assert.deepEqual(client.h2.available, false, "no new streams after GOAWAY");

    await s1.write(enc.encode("one"), true);
    await s3.write(enc.encode("three"), true);
    assert.deepEqual(dec.decode(await within("stream 1", readAll(s1))), "one");
    assert.deepEqual(dec.decode(await within("stream 3", readAll(s3))), "three");
    // Both ends close once the last stream is done.
    await within("the client connection to end", client.run);
    await within("the server connection to end", server.conns[0].done);
    assert.deepEqual(got.length, 2, "stream 5 never reached the application");
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("an idle server connection closes itself; one in use stays", async () => {
  const server = startServer({ idleTimeoutMs: 100 });
  const client = await connectClient(server.port);
  try {
    const s = client.h2.request(post("/slow"), false);
    await waitFor("the stream at the server", () => server.conns[0]?.activeStreams === 1);
    // While the request is open the server keeps the connection, whatever the timeout.
    await s.write(enc.encode("x"), true);
    assert.deepEqual(dec.decode(await within("response", readAll(s))), "x");
    // Then nothing: the server says GOAWAY and closes; the client follows.
    await within("the server to close the idle connection", server.conns[0].done);
    assert.deepEqual(server.conns[0].closeReason?.code, ErrorCode.NO_ERROR);
    await within("the client to see the close", client.run);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("an idle client connection closes itself", async () => {
  const server = startServer();
  const client = await connectClient(server.port, {}, 100);
  try {
    await within("the client to close", client.run);
    await within(
      "the server to see it",
      (async () => {
        while (server.conns.length === 0) await server.nextConn();
        await server.conns[0].done;
      })(),
    );
    assert.deepEqual(client.h2.available, false);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("request bodies left unread do not use up the connection's receive window", async () => {
  // Each request fills its stream window and the server never reads it. 21 × 256 KiB
  // through a 512 KiB connection window only goes through if every unread body hands its
  // share of the window back when the server lets go of it, in each of three ways.
  const KiB256 = 256 * 1024;
  const settings = { initialWindowSize: KiB256, connectionWindowSize: 2 * KiB256 };
  const problems: unknown[] = [];
  const server = startServer({
    settings,
    onStream: (s) => {
      s.sendHeaders([":status", "204"], true);
      const path = field(s.headers, ":path");
      // Reset before any of the body arrived: what follows is dropped on arrival.
      if (path === "/reset-at-once") return s.reset(ErrorCode.NO_ERROR);
      // Reset with the whole (unfinished) body queued: failing the stream drops it.
      // Or the body ended, so the stream closed on both sides, then the app lets it go.
      const until = path === "/reset-queued" ? () => s.bytesIn === KiB256 : () => s.remoteEnded;
      waitFor(`the body of ${path}`, until).then(() => s.reset(), (e) => problems.push(e));
    },
  });
  const client = await connectClient(server.port);
  try {
    for (let i = 0; i < 21; i++) {
      const path = ["/reset-at-once", "/reset-queued", "/ended"][i % 3];
      const s = client.h2.request(post(path), false);
      assert.deepEqual(field(await within(`response ${i}`, s.head()), ":status"), "204");
      const body = randomBytes(KiB256);
      if (path === "/reset-at-once") {
        // The server's reset may come before all of it is sent.
        await within(`upload ${i}`, s.write(body, true).catch(() => {}));
      } else if (path === "/reset-queued") {
        await within(`upload ${i}`, s.write(body));
        await waitFor(`the server to reset ${i}`, () => s.error);
      } else await within(`upload ${i}`, s.write(body, true));
    }
    assert.deepEqual(problems, []);
  } finally {
    await client.close();
    await server.close();
  }
});
