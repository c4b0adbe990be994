import assert from "node:assert/strict";
import { Logger, VirtualClock } from "../../src/core/mod.ts";
import {
  type AccessLogRecord,
  type AccessLogSink,
  type ByteWriter,
  checkAccessLogFile,
  createAccessLog,
  formatAccessLogRecord,
  MetricsRegistry,
  offAccessLog,
} from "../../src/telemetry/mod.ts";

function record(overrides: Partial<AccessLogRecord> = {}): AccessLogRecord {
  return {
    start_time: "2023-11-14T22:13:20.000Z",
    method: "GET",
    path: "/api/items?x=1",
    protocol: "HTTP/1.1",
    response_code: 200,
    response_flags: "",
    bytes_received: 0,
    bytes_sent: 512,
    duration_ms: 3.14159265,
    upstream_service_time_ms: 2.5,
    x_forwarded_for: null,
    user_agent: "curl/8.5.0",
    request_id: "5c1a3c9e-7a7e-4b43-9a55-0e1f7c6b0a01",
    authority: "items.local",
    upstream_host: "10.0.0.7:8080",
    upstream_cluster: "items",
    route: "items",
    listener: "outbound",
    downstream_remote_address: "127.0.0.1:51234",
    retries: 0,
    ...overrides,
  };
}

/** A logger that keeps its JSON lines for assertions. */
function capturingLogger(
  clock: VirtualClock,
): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = new Logger({ clock, sink: (l) => lines.push(JSON.parse(l)), level: "debug" });
  return { logger, lines };
}

/** An in-memory writer recording each write call; `gate` can hold writes back. */
class MemoryWriter implements ByteWriter {
  chunks: string[] = [];
  calls = 0;
  maxChunk = Infinity;
  failNext = 0;
  gate: Promise<void> | undefined;
  #waiters: (() => void)[] = [];

  async write(p: Uint8Array): Promise<number> {
    this.calls++;
    if (this.gate) await this.gate;
    if (this.failNext > 0) {
      this.failNext--;
      throw new Deno.errors.BrokenPipe("simulated failure");
    }
    const n = Math.min(p.length, this.maxChunk);
    this.chunks.push(new TextDecoder().decode(p.subarray(0, n)));
    for (const w of this.#waiters.splice(0)) w();
    return n;
  }

  get text(): string {
    return this.chunks.join("");
  }

  /** Resolves after the next successful write. */
  nextWrite(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

Deno.test("records serialise to one JSON object with Envoy-like fields in a fixed order", () => {
  const line = formatAccessLogRecord(record({ grpc_status: 14, protocol: "HTTP/2" }));
  assert.ok(!line.includes("\n"));
  const parsed = JSON.parse(line);
  assert.deepEqual(Object.keys(parsed), [
    "start_time",
    "method",
    "path",
    "protocol",
    "response_code",
    "response_flags",
    "bytes_received",
    "bytes_sent",
    "duration_ms",
    "upstream_service_time_ms",
    "x_forwarded_for",
    "user_agent",
    "request_id",
    "authority",
    "upstream_host",
    "upstream_cluster",
    "route",
    "listener",
    "downstream_remote_address",
    "retries",
    "grpc_status",
  ]);
  assert.equal(parsed.duration_ms, 3.142);
  assert.equal(parsed.grpc_status, 14);
  assert.equal(parsed.x_forwarded_for, null);
  assert.equal("grpc_status" in JSON.parse(formatAccessLogRecord(record())), false);
  const odd = JSON.parse(formatAccessLogRecord(record({ path: '/a"b\\c\nd\u2028' })));
  assert.equal(odd.path, '/a"b\\c\nd\u2028');
});

Deno.test("the off sink is disabled and does nothing", async () => {
  const clock = new VirtualClock();
  const sink = createAccessLog({ sink: "off" }, { clock, logger: capturingLogger(clock).logger });
  assert.equal(sink, offAccessLog);
  assert.equal(sink.enabled, false);
  sink.write(record());
  await sink.flush();
  await sink.close();
  assert.equal(sink.dropped, 0);
  assert.equal(clock.pending, 0);
});

Deno.test("a file sink without a path throws TypeError", () => {
  const clock = new VirtualClock();
  assert.throws(
    () => createAccessLog({ sink: "file" }, { clock, logger: capturingLogger(clock).logger }),
    { name: "TypeError", message: /needs a path/ },
  );
});

Deno.test("records are batched: nothing is written per record, one write per interval", async () => {
  const clock = new VirtualClock();
  const out = new MemoryWriter();
  const sink = createAccessLog({ sink: "stdout", flushIntervalMs: 100 }, {
    clock,
    logger: capturingLogger(clock).logger,
    stdout: out,
  });
  assert.equal(sink.enabled, true);
  for (let i = 0; i < 50; i++) sink.write(record({ retries: i }));
  await Promise.resolve();
  clock.advance(99);
  assert.equal(out.calls, 0);
  const written = out.nextWrite();
  clock.advance(1);
  await written;
  assert.equal(out.calls, 1);
  const lines = out.text.split("\n");
  assert.equal(lines.pop(), "");
  assert.deepEqual(lines.map((l) => JSON.parse(l).retries), [...Array(50).keys()]);
  await sink.close();
  assert.equal(out.calls, 1);
});

Deno.test("a batch reaching flushBytes is written without waiting for the timer", async () => {
  const clock = new VirtualClock();
  const out = new MemoryWriter();
  const line = formatAccessLogRecord(record());
  const sink = createAccessLog({ sink: "stdout", flushBytes: 3 * (line.length + 1) }, {
    clock,
    logger: capturingLogger(clock).logger,
    stdout: out,
  });
  const written = out.nextWrite();
  sink.write(record());
  sink.write(record());
  assert.equal(out.calls, 0);
  sink.write(record());
  await written;
  assert.equal(out.text, `${line}\n${line}\n${line}\n`);
  await sink.close();
});

Deno.test("partial writes are continued until the whole batch is out", async () => {
  const clock = new VirtualClock();
  const out = new MemoryWriter();
  out.maxChunk = 7;
  const sink = createAccessLog({ sink: "stdout" }, {
    clock,
    logger: capturingLogger(clock).logger,
    stdout: out,
  });
  sink.write(record({ route: "a" }));
  sink.write(record({ route: "b" }));
  await sink.flush();
  assert.ok(out.calls > 10);
  assert.deepEqual(out.text.trimEnd().split("\n").map((l) => JSON.parse(l).route), ["a", "b"]);
  await sink.close();
});

Deno.test("the file sink appends valid JSON lines and flushes on close", async () => {
  const dir = await Deno.makeTempDir({ prefix: "skiff_access_log_" });
  try {
    const path = `${dir}/access.log`;
    await Deno.writeTextFile(path, '{"earlier":true}\n');
    const clock = new VirtualClock();
    const { logger, lines: logs } = capturingLogger(clock);
    const sink = createAccessLog({ sink: "file", path }, { clock, logger });
    sink.write(record({ response_code: 200 }));
    sink.write(record({ response_code: 503, response_flags: "no_healthy_upstream" }));
    sink.write(record({ response_code: 200, protocol: "HTTP/2", grpc_status: 0 }));
    assert.equal(await Deno.readTextFile(path), '{"earlier":true}\n'); // still buffered
    await sink.close();
    await sink.close(); // idempotent
    const text = await Deno.readTextFile(path);
    assert.ok(text.endsWith("\n"));
    const parsed = text.trimEnd().split("\n").map((l) => JSON.parse(l));
    assert.equal(parsed.length, 4);
    assert.deepEqual(parsed[0], { earlier: true });
    assert.deepEqual(parsed.slice(1).map((r) => r.response_code), [200, 503, 200]);
    assert.equal(parsed[2].response_flags, "no_healthy_upstream");
    assert.equal(parsed[3].grpc_status, 0);
    assert.deepEqual(parsed[1], JSON.parse(formatAccessLogRecord(record())));
    assert.equal(sink.dropped, 0);
    assert.deepEqual(logs, []);
    sink.write(record()); // after close: counted, not thrown
    assert.equal(sink.dropped, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a file sink in a missing directory counts drops, logs once and never throws", async () => {
  const dir = await Deno.makeTempDir({ prefix: "skiff_access_log_" });
  try {
    const clock = new VirtualClock();
    const { logger, lines: logs } = capturingLogger(clock);
    const registry = new MetricsRegistry();
    const path = `${dir}/missing/access.log`;
    const sink = createAccessLog({ sink: "file", path }, { clock, logger, registry });
    for (let i = 0; i < 3; i++) sink.write(record());
    await sink.flush();
    for (let i = 0; i < 2; i++) sink.write(record());
    await sink.flush();
    await sink.close();
    assert.equal(sink.dropped, 5);
    assert.equal(logs.length, 1);
    assert.equal(logs[0].level, "error");
    assert.equal(logs[0].target, path);
    assert.match(String(logs[0].error), /NotFound/);
    const counter = registry.counter(
      "skiff_access_log_dropped_records",
      "Access-log records lost because the sink failed, was full or was closed.",
      ["sink"],
    );
    assert.equal(counter.labels("file").value, 5);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("after a failed write the sink recovers and says so once", async () => {
  const clock = new VirtualClock();
  const { logger, lines: logs } = capturingLogger(clock);
  const out = new MemoryWriter();
  out.failNext = 2;
  const sink = createAccessLog({ sink: "stdout" }, { clock, logger, stdout: out });
  sink.write(record({ route: "lost1" }));
  await sink.flush();
  sink.write(record({ route: "lost2" }));
  await sink.flush();
  sink.write(record({ route: "kept" }));
  await sink.close();
  assert.equal(sink.dropped, 2);
  assert.deepEqual(logs.map((l) => l.level), ["error", "info"]);
  assert.equal(logs[1].dropped_total, 2);
  assert.equal(JSON.parse(out.text).route, "kept");
});

Deno.test("a stalled destination bounds the buffer and drops the excess", async () => {
  const clock = new VirtualClock();
  const { logger, lines: logs } = capturingLogger(clock);
  const out = new MemoryWriter();
  let release!: () => void;
  out.gate = new Promise((r) => (release = r));
  const line = formatAccessLogRecord(record());
  const sink = createAccessLog({
    sink: "stdout",
    flushBytes: line.length + 1, // every record starts a write; the first one stalls
    maxBufferBytes: 2 * (line.length + 1),
  }, { clock, logger, stdout: out });
  for (let i = 0; i < 10; i++) sink.write(record());
  // 1 record in the stalled write, 2 buffered, 7 dropped.
  assert.equal(sink.dropped, 7);
  assert.deepEqual(logs.map((l) => l.msg), ["access log buffer full; dropping records"]);
  release();
  await sink.close();
  assert.equal(out.text.split("\n").length - 1, 3);
  assert.equal(out.calls, 2);
});

// Conformance: every sink kind honours the AccessLogSink contract.
const kinds: [string, (dir: string, clock: VirtualClock) => AccessLogSink][] = [
  [
    "off",
    (_d, clock) =>
      createAccessLog({ sink: "off" }, { clock, logger: capturingLogger(clock).logger }),
  ],
  ["stdout", (_d, clock) =>
    createAccessLog({ sink: "stdout" }, {
      clock,
      logger: capturingLogger(clock).logger,
      stdout: new MemoryWriter(),
    })],
  ["file", (dir, clock) =>
    createAccessLog({ sink: "file", path: `${dir}/a.log` }, {
      clock,
      logger: capturingLogger(clock).logger,
    })],
  [
    "file (failing)",
    (dir, clock) =>
      createAccessLog({ sink: "file", path: `${dir}/no/such/dir/a.log` }, {
        clock,
        logger: capturingLogger(clock).logger,
      }),
  ],
];

for (const [kind, make] of kinds) {
  Deno.test(`sink contract: ${kind}`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "skiff_access_log_" });
    try {
      const clock = new VirtualClock();
      const sink = make(dir, clock);
      const before = sink.dropped;
      for (let i = 0; i < 5; i++) sink.write(record());
      await sink.flush();
      await Promise.all([sink.close(), sink.close()]);
      sink.write(record());
      await sink.flush();
      assert.ok(sink.dropped >= before);
      if (sink.enabled) assert.ok(sink.dropped >= 1, "writes after close are counted");
      assert.equal(clock.pending, 0, "no timer left behind");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("checkAccessLogFile refuses a file skiff cannot open, naming it and the fix", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const missing = `${dir}/no-such-dir/access.log`;
    await assert.rejects(
      checkAccessLogFile({ sink: "file", path: missing }),
      (err: Error) =>
        err.message.includes(JSON.stringify(missing)) && /access_log\.path/.test(err.message),
    );
    // A writable path passes, and the file is there afterwards (created, empty).
    const ok = `${dir}/access.log`;
    await checkAccessLogFile({ sink: "file", path: ok });
    assert.equal((await Deno.stat(ok)).size, 0);
    // Other sinks open nothing.
    await checkAccessLogFile({ sink: "stdout", path: missing });
    await checkAccessLogFile({ sink: "off" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
