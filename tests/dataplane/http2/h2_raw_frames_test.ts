// Exact bytes against a server H2Connection: protocol violations end the connection with
// the right GOAWAY code or the stream with the right RST_STREAM code, malformed requests
// get a 400 (or a reset), abuse (rapid reset, floods) is cut off — and afterwards a new
// connection to the same server still works.
import assert from "node:assert/strict";
import { waitFor } from "../../_harness/mod.ts";
import {
  ErrorCode,
  Flag,
  FrameType,
  readU32,
  Setting,
} from "../../../src/dataplane/http2/frame.ts";
import type { H2Stream } from "../../../src/dataplane/http2/h2_stream.ts";
import {
  concat,
  echo,
  frame,
  get,
  post,
  RawH2,
  startServer,
  type TestServer,
  u32,
  within,
} from "./_h2_peers.ts";

const { DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY } = FrameType;
const { WINDOW_UPDATE, CONTINUATION } = FrameType;
const { END_STREAM, END_HEADERS, PADDED, ACK } = Flag;

/** Paths the test servers hold open without reading (`/hold`) or reset at once. */
function handler(s: H2Stream): void {
  const path = s.headers![s.headers!.indexOf(":path") + 1];
  if (path === "/hold") return;
  if (path === "/reset-now") return s.reset(ErrorCode.CANCEL);
  echo(s).catch(() => s.reset());
}

/** Opens a raw connection with the preface already sent. */
async function open(server: TestServer): Promise<RawH2> {
  const raw = await RawH2.connect(server.port);
  assert.ok(await raw.preface());
  return raw;
}

/** A GET on a fresh connection gets its 200: the server survived whatever came before. */
async function works(server: TestServer): Promise<void> {
  const raw = await open(server);
  try {
    await raw.send(raw.headers(1, get("/ok")));
    const head = await raw.response(1);
    assert.equal(head[1], "200");
  } finally {
    raw.close();
  }
}

/** Sends what `build` makes on a fresh connection and expects GOAWAY `code`, then the close. */
async function expectGoaway(
  server: TestServer,
  code: number,
  build: (raw: RawH2) => Uint8Array[],
): Promise<void> {
  const raw = await open(server);
  try {
    await raw.send(...build(raw));
    const g = await raw.goaway();
    assert.equal(g.code, code, `GOAWAY code ${g.code} (${g.debug}), expected ${code}`);
  } finally {
    raw.close();
  }
  await works(server);
}

function serverTest(
  name: string,
  fn: (server: TestServer) => Promise<void>,
  opts: Parameters<typeof startServer>[0] = {},
): void {
  Deno.test(name, async () => {
    const server = startServer({ onStream: handler, ...opts });
    try {
      await fn(server);
    } finally {
      await server.close();
    }
  });
}

serverTest("a bad preface gets GOAWAY PROTOCOL_ERROR and the connection closes", async (server) => {
  const raw = await RawH2.connect(server.port);
  try {
    await raw.send(new TextEncoder().encode("GET / HTTP/1.1\r\nhost: x\r\n\r\n"));
    const g = await raw.goaway();
    assert.equal(g.code, ErrorCode.PROTOCOL_ERROR);
  } finally {
    raw.close();
  }
  await works(server);
});

serverTest("SETTINGS are acknowledged, PING is answered with its payload", async (server) => {
  const raw = await open(server);
  try {
    const first = await raw.until("server SETTINGS", (f) => f.type === SETTINGS);
    assert.equal(first.flags & ACK, 0, "the server's own SETTINGS come first");
    await raw.until("ACK of the empty SETTINGS", (f) => f.type === SETTINGS && f.flags === ACK);
    await raw.send(frame(SETTINGS, 0, 0, [0, Setting.INITIAL_WINDOW_SIZE, ...u32(1000)]));
    const ack = await raw.until("ACK", (f) => f.type === SETTINGS && f.flags === ACK);
    assert.equal(ack.payload.length, 0);
    const payload = [1, 2, 3, 4, 5, 6, 7, 8];
    await raw.send(frame(PING, 0, 0, payload));
    const pong = await raw.until("PING ACK", (f) => f.type === PING);
    assert.equal(pong.flags, ACK);
    assert.deepEqual([...pong.payload], payload);
    // A PING ACK from us needs no answer; the connection goes on.
    await raw.send(frame(PING, ACK, 0, payload), raw.headers(1, get("/after")));
    assert.equal((await raw.response(1))[1], "200");
  } finally {
    raw.close();
  }
});

const hold = (raw: RawH2, id: number) => raw.headers(id, post("/hold"), false);

const connectionErrors: [string, number, (raw: RawH2) => Uint8Array[]][] = [
  ["DATA on stream 0", ErrorCode.PROTOCOL_ERROR, () => [frame(DATA, 0, 0, [1, 2, 3])]],
  ["HEADERS on an even stream", ErrorCode.PROTOCOL_ERROR, (r) => [r.headers(2, get("/"))]],
  ["HEADERS on stream 0", ErrorCode.PROTOCOL_ERROR, (r) => [r.headers(0, get("/"))]],
  ["a frame over 16384 octets", ErrorCode.FRAME_SIZE_ERROR, () => [
    frame(DATA, 0, 1, new Uint8Array(16_385)),
  ]],
  ["CONTINUATION on another stream", ErrorCode.PROTOCOL_ERROR, (r) => {
    const h = r.headers(1, get("/"));
    h[4] = END_STREAM; // no END_HEADERS
    return [h, frame(CONTINUATION, END_HEADERS, 3, [])];
  }],
  ["CONTINUATION without HEADERS", ErrorCode.PROTOCOL_ERROR, () => [
    frame(CONTINUATION, END_HEADERS, 1, [0x82]),
  ]],
  ["another frame inside a header block", ErrorCode.PROTOCOL_ERROR, (r) => {
    const h = r.headers(1, get("/"));
    h[4] = END_STREAM;
    return [h, frame(PING, 0, 0, new Uint8Array(8))];
  }],
  ["HPACK garbage", ErrorCode.COMPRESSION_ERROR, () => [
    frame(HEADERS, END_HEADERS | END_STREAM, 1, [0x80]), // indexed field 0
  ]],
  ["HPACK index past the tables", ErrorCode.COMPRESSION_ERROR, () => [
    frame(HEADERS, END_HEADERS | END_STREAM, 1, [0xff, 0x80, 0x01]),
  ]],
  ["WINDOW_UPDATE overflowing the connection window", ErrorCode.FLOW_CONTROL_ERROR, () => [
    frame(WINDOW_UPDATE, 0, 0, u32(0x7fff_ffff)),
  ]],
  ["WINDOW_UPDATE of 0 on the connection", ErrorCode.PROTOCOL_ERROR, () => [
    frame(WINDOW_UPDATE, 0, 0, u32(0)),
  ]],
  ["WINDOW_UPDATE on an idle stream", ErrorCode.PROTOCOL_ERROR, () => [
    frame(WINDOW_UPDATE, 0, 9, u32(10)),
  ]],
  ["RST_STREAM on an idle stream", ErrorCode.PROTOCOL_ERROR, () => [
    frame(RST_STREAM, 0, 7, u32(ErrorCode.CANCEL)),
  ]],
  ["HEADERS padding longer than the payload", ErrorCode.PROTOCOL_ERROR, () => [
    frame(HEADERS, END_HEADERS | END_STREAM | PADDED, 1, [200, 0x82, 0x84, 0x86]),
  ]],
  ["DATA padding longer than the payload", ErrorCode.PROTOCOL_ERROR, (r) => [
    hold(r, 1),
    frame(DATA, PADDED, 1, [4, 1, 2, 3]),
  ]],
  ["PUSH_PROMISE from a client", ErrorCode.PROTOCOL_ERROR, () => [
    frame(PUSH_PROMISE, END_HEADERS, 1, [0, 0, 0, 2, 0x82]),
  ]],
  ["SETTINGS_ENABLE_PUSH of 2", ErrorCode.PROTOCOL_ERROR, () => [
    frame(SETTINGS, 0, 0, [0, Setting.ENABLE_PUSH, ...u32(2)]),
  ]],
  ["SETTINGS_INITIAL_WINDOW_SIZE over 2^31-1", ErrorCode.FLOW_CONTROL_ERROR, () => [
    frame(SETTINGS, 0, 0, [0, Setting.INITIAL_WINDOW_SIZE, ...u32(0x8000_0000)]),
  ]],
  ["SETTINGS of 5 octets", ErrorCode.FRAME_SIZE_ERROR, () => [
    frame(SETTINGS, 0, 0, [0, 4, 0, 0, 1]),
  ]],
  [
    "a PING of 7 octets",
    ErrorCode.FRAME_SIZE_ERROR,
    () => [frame(PING, 0, 0, [1, 2, 3, 4, 5, 6, 7])],
  ],
  [
    "PRIORITY on stream 0",
    ErrorCode.PROTOCOL_ERROR,
    () => [frame(PRIORITY, 0, 0, [0, 0, 0, 1, 16])],
  ],
  ["zero-length CONTINUATION frames without end", ErrorCode.ENHANCE_YOUR_CALM, (r) => {
    const h = r.headers(1, get("/"));
    h[4] = END_STREAM;
    return [h, ...Array.from({ length: 600 }, () => frame(CONTINUATION, 0, 1, []))];
  }],
  ["a header block over twice the header list limit", ErrorCode.ENHANCE_YOUR_CALM, (r) => {
    const h = r.headers(1, get("/"));
    h[4] = END_STREAM;
    const big = new Uint8Array(16_384).fill(0x41);
    return [h, ...Array.from({ length: 9 }, () => frame(CONTINUATION, 0, 1, big))];
  }],
];

for (const [name, code, build] of connectionErrors) {
  serverTest(`${name} ends the connection with GOAWAY ${code}`, async (server) => {
    await expectGoaway(server, code, build);
  });
}

serverTest("DATA beyond the connection window ends the connection", async (server) => {
  const raw = await open(server);
  try {
    const full = new Uint8Array(16_384);
    await raw.send(hold(raw, 1), ...Array.from({ length: 5 }, () => frame(DATA, 0, 1, full)));
    assert.equal((await raw.goaway()).code, ErrorCode.FLOW_CONTROL_ERROR);
  } finally {
    raw.close();
  }
  await works(server);
}, { settings: { initialWindowSize: 1 << 20, connectionWindowSize: 65_535 } });

/** Stream-level errors: the stream is reset, the connection goes on. */
const streamErrors: [string, number, (raw: RawH2) => Uint8Array[], object?][] = [
  ["DATA beyond the stream window", ErrorCode.FLOW_CONTROL_ERROR, (r) => [
    hold(r, 1),
    ...Array.from({ length: 4 }, () => frame(DATA, 0, 1, new Uint8Array(16_384))),
  ], { settings: { initialWindowSize: 65_535 } }],
  ["WINDOW_UPDATE overflowing the stream window", ErrorCode.FLOW_CONTROL_ERROR, (r) => [
    hold(r, 1),
    frame(WINDOW_UPDATE, 0, 1, u32(0x7fff_ffff)),
  ]],
  ["WINDOW_UPDATE of 0 on a stream", ErrorCode.PROTOCOL_ERROR, (r) => [
    hold(r, 1),
    frame(WINDOW_UPDATE, 0, 1, u32(0)),
  ]],
  ["more DATA than the content-length", ErrorCode.PROTOCOL_ERROR, (r) => [
    r.headers(1, post("/hold", ["content-length", "5"]), false),
    frame(DATA, END_STREAM, 1, new TextEncoder().encode("hello world")),
  ]],
  ["less DATA than the content-length", ErrorCode.PROTOCOL_ERROR, (r) => [
    r.headers(1, post("/hold", ["content-length", "50"]), false),
    frame(DATA, 0, 1, new TextEncoder().encode("hello")),
    frame(HEADERS, END_HEADERS | END_STREAM, 1, r.encoder.encode(["x-t", "1"])),
  ]],
  ["HEADERS after the end of the request", ErrorCode.STREAM_CLOSED, (r) => [
    r.headers(1, post("/hold"), true),
    frame(HEADERS, END_HEADERS | END_STREAM, 1, r.encoder.encode(["x-t", "1"])),
  ]],
  ["trailers without END_STREAM", ErrorCode.PROTOCOL_ERROR, (r) => [
    hold(r, 1),
    frame(HEADERS, END_HEADERS, 1, r.encoder.encode(["x-t", "1"])),
  ]],
  ["trailers with a pseudo-header field", ErrorCode.PROTOCOL_ERROR, (r) => [
    hold(r, 1),
    frame(HEADERS, END_HEADERS | END_STREAM, 1, r.encoder.encode([":path", "/x"])),
  ]],
  ["a stream depending on itself", ErrorCode.PROTOCOL_ERROR, (r) => [
    hold(r, 1),
    frame(PRIORITY, 0, 1, [0, 0, 0, 1, 16]),
  ]],
  ["a PRIORITY frame of 4 octets", ErrorCode.FRAME_SIZE_ERROR, (r) => [
    hold(r, 1),
    frame(PRIORITY, 0, 1, [0, 0, 0, 0]),
  ]],
];

for (const [name, code, build, opts] of streamErrors) {
  serverTest(`${name} resets the stream with ${code}; the connection goes on`, async (server) => {
    const raw = await open(server);
    try {
      await raw.send(...build(raw));
      assert.equal(await raw.rst(1), code);
      await raw.send(raw.headers(3, get("/next")));
      assert.equal((await raw.response(3))[1], "200");
    } finally {
      raw.close();
    }
  }, opts);
}

serverTest("frames in flight on a stream the server reset are ignored", async (server) => {
  const raw = await open(server);
  try {
    await raw.send(raw.headers(1, post("/reset-now"), false));
    assert.equal(await raw.rst(1), ErrorCode.CANCEL);
    // The client had not seen the reset yet: its body and trailers arrive after it.
    await raw.send(
      frame(DATA, 0, 1, [1, 2, 3]),
      frame(WINDOW_UPDATE, 0, 1, u32(100)),
      frame(HEADERS, END_HEADERS | END_STREAM, 1, raw.encoder.encode(["x-trailer", "late"])),
      raw.headers(3, get("/next")),
    );
    const head = await raw.response(3);
    assert.equal(head[1], "200");
  } finally {
    raw.close();
  }
});

// ---- malformed requests (RFC 9113 §8.2, §8.3) ---------------------------------------------

const GET = get("/m");
const malformed: [string, string[], string][] = [
  ["an uppercase field name", [...GET, "X-Upper", "1"], "uppercase_field_name"],
  ["a connection field", [...GET, "connection", "keep-alive"], "connection_specific_field"],
  [
    "a transfer-encoding field",
    [...GET, "transfer-encoding", "chunked"],
    "connection_specific_field",
  ],
  ["a missing :path", GET.slice(0, 6), "missing_pseudo_header"],
  ["a missing :method", GET.slice(2), "missing_method"],
  ["te: gzip", [...GET, "te", "gzip"], "bad_te"],
  ["CR LF in a field name", [...GET, "x-a\r\nx-injected", "1"], "bad_field_name"],
  ["a colon in a field name", [...GET, "x-a:b", "1"], "bad_field_name"],
  ["a space in a field name", [...GET, "x a", "1"], "bad_field_name"],
  ["CR LF in a field value", [...GET, "x-a", "1\r\nx-injected: 2"], "bad_field_value"],
  ["a NUL in a field value", [...GET, "x-a", "1\0"], "bad_field_value"],
  ["a field value with edge whitespace", [...GET, "x-a", " 1"], "bad_field_value"],
  [
    "a pseudo-header field after a regular one",
    [...GET, "x-a", "1", ":method", "POST"],
    "pseudo_header_after_field",
  ],
  [
    "an unknown pseudo-header field",
    [...GET.slice(0, 6), ":protocol", "ws", ":path", "/"],
    "unknown_pseudo_header",
  ],
  ["a duplicate :path", [...GET.slice(0, 8), ":path", "/b"], "duplicate_pseudo_header"],
  ["a :path with a space", [...GET.slice(0, 6), ":path", "/a b HTTP/1.1"], "bad_path"],
  ["a :path with CR LF", [...GET.slice(0, 6), ":path", "/a\r\nx-injected: 1"], "bad_path"],
  ["a :path not starting with /", [...GET.slice(0, 6), ":path", "a"], "bad_path"],
  ["a * :path for GET", [...GET.slice(0, 6), ":path", "*"], "bad_path"],
  ["an :authority with userinfo", [
    ":method",
    "GET",
    ":scheme",
    "http",
    ":authority",
    "user@host",
    ":path",
    "/",
  ], "bad_authority"],
  ["a method that is not a token", [":method", "G T", ...GET.slice(2)], "bad_method"],
  ["a content-length that is not a number", [...GET, "content-length", "5x"], "bad_content_length"],
  ["two different content-lengths", [
    ...GET,
    "content-length",
    "1",
    "content-length",
    "2",
  ], "bad_content_length"],
  ["a content-length with no body", [...GET, "content-length", "5"], "content_length_mismatch"],
  [
    "a CONNECT with a :path",
    [":method", "CONNECT", ":authority", "a:443", ":path", "/"],
    "bad_connect",
  ],
];

for (const [name, fields, reason] of malformed) {
  Deno.test(`a request with ${name} is malformed: 400 with the hook, else RST_STREAM`, async () => {
    const seen: string[] = [];
    const withHook = startServer({
      onStream: handler,
      onMalformed: (s, why) => {
        seen.push(why);
        s.sendHeaders([":status", "400", "x-reason", why], true);
      },
    });
    const noHook = startServer({ onStream: handler });
    try {
      let raw = await open(withHook);
      try {
        await raw.send(raw.headers(1, fields));
        const head = await raw.response(1);
        assert.deepEqual(head, [":status", "400", "x-reason", reason]);
        assert.deepEqual(seen, [reason]);
        // The same connection still serves well-formed requests.
        await raw.send(raw.headers(3, get("/next")));
        assert.equal((await raw.response(3))[1], "200");
      } finally {
        raw.close();
      }
      raw = await open(noHook);
      try {
        await raw.send(raw.headers(1, fields));
        assert.equal(await raw.rst(1), ErrorCode.PROTOCOL_ERROR);
        await raw.send(raw.headers(3, get("/next")));
        assert.equal((await raw.response(3))[1], "200");
      } finally {
        raw.close();
      }
      await works(withHook);
      await works(noHook);
    } finally {
      await withHook.close();
      await noHook.close();
    }
  });
}

serverTest("a header list over the limit is malformed as headers_too_large", async (server) => {
  const raw = await open(server);
  try {
    await raw.send(raw.headers(1, [...get("/big"), "x-big", "a".repeat(2000)]));
    assert.equal(await raw.rst(1), ErrorCode.PROTOCOL_ERROR);
    await raw.send(raw.headers(3, get("/next")));
    assert.equal((await raw.response(3))[1], "200");
  } finally {
    raw.close();
  }
}, { settings: { maxHeaderListSize: 1024 } });

// ---- abuse ------------------------------------------------------------------------------

serverTest(
  "rapid reset: a client resetting streams in bulk gets ENHANCE_YOUR_CALM",
  async (server) => {
    const raw = await open(server);
    try {
      // A few resets are normal: the connection goes on.
      const some: Uint8Array[] = [];
      for (let id = 1; id < 200; id += 2) {
        some.push(
          raw.headers(id, get("/hold"), true),
          frame(RST_STREAM, 0, id, u32(ErrorCode.CANCEL)),
        );
      }
      await raw.send(...some, frame(PING, 0, 0, new Uint8Array(8)));
      await raw.until("PING ACK", (f) => f.type === PING);
      // Thousands are an attack (default allowance: a burst of 1000, 100 more per second).
      const many: Uint8Array[] = [];
      for (let id = 201; id < 201 + 2 * 5000; id += 2) {
        many.push(
          raw.headers(id, get("/hold"), true),
          frame(RST_STREAM, 0, id, u32(ErrorCode.CANCEL)),
        );
      }
      await raw.send(concat(...many)); // may fail part way once the server has closed
      const g = await raw.until("GOAWAY", (f) => f.type === GOAWAY);
      assert.equal(readU32(g.payload, 4), ErrorCode.ENHANCE_YOUR_CALM);
    } finally {
      raw.close();
    }
    await works(server);
  },
);

serverTest("requests refused over the stream limit count as resets too", async (server) => {
  const raw = await open(server);
  try {
    const parts: Uint8Array[] = [];
    for (let id = 1; id < 2 * 3000; id += 2) parts.push(raw.headers(id, get("/hold"), false));
    await raw.send(concat(...parts));
    const g = await raw.until("GOAWAY", (f) => f.type === GOAWAY);
    assert.equal(readU32(g.payload, 4), ErrorCode.ENHANCE_YOUR_CALM);
  } finally {
    raw.close();
  }
  await works(server);
}, { settings: { maxConcurrentStreams: 10 } });

serverTest("a client that sends PINGs without reading the answers is cut off", async (server) => {
  const raw = await open(server);
  const accepted = server.conns.length > 0 ? server.conns[0] : await server.nextConn();
  try {
    const batch = concat(
      ...Array.from({ length: 4096 }, () => frame(PING, 0, 0, new Uint8Array(8))),
    );
    // Never read. Without a limit the server would queue 17 octets per PING for as long as
    // we go on; the bound here (2M PINGs, 34 MiB of answers) is far past what the kernel
    // buffers hold, so the server must have cut us off before it.
    for (let i = 0; i < 512 && !accepted.closed; i++) {
      if (!(await raw.send(batch))) break;
    }
    assert.ok(accepted.closed, "the server still takes PINGs it cannot answer");
    await within("the server to close the socket", accepted.done);
    assert.equal(accepted.closeReason?.code, ErrorCode.ENHANCE_YOUR_CALM);
  } finally {
    raw.close();
  }
  await works(server);
});

serverTest(
  "graceful GOAWAY: later streams are refused, a later GOAWAY keeps the last id",
  async (server) => {
    const raw = await open(server);
    try {
      await raw.send(hold(raw, 1));
      await waitFor("stream 1 at the server", () => server.conns[0]?.activeStreams === 1);
      server.conns[0].shutdown();
      const first = await raw.until("GOAWAY", (f) => f.type === GOAWAY);
      assert.deepEqual([readU32(first.payload, 0), readU32(first.payload, 4)], [
        1,
        ErrorCode.NO_ERROR,
      ]);
      await raw.send(raw.headers(3, get("/late")));
      assert.equal(await raw.rst(3), ErrorCode.REFUSED_STREAM);
      await raw.send(frame(DATA, 0, 0, [1]));
      const g = await raw.goaway();
      assert.deepEqual([g.last, g.code], [1, ErrorCode.PROTOCOL_ERROR]);
    } finally {
      raw.close();
    }
    await works(server);
  },
);
