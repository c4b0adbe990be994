import assert from "node:assert/strict";
import { Logger, type LogLevel } from "../../src/core/logger.ts";
import { VirtualClock } from "../../src/core/virtual_clock.ts";
import { TimeoutError } from "../../src/core/abort.ts";

function capture(level?: LogLevel, fields?: Record<string, unknown>) {
  const clock = new VirtualClock(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
  const lines: string[] = [];
  const log = new Logger({ clock, sink: (l) => lines.push(l), level, fields });
  const records = () => lines.map((l) => JSON.parse(l));
  return { clock, log, lines, records };
}

Deno.test("Logger writes one JSON object per line with ts, level and msg", () => {
  const { clock, log, lines, records } = capture();
  log.info("listener bound", { address: "127.0.0.1:10000" });
  clock.advance(1_000);
  log.warn("two\nlines");
  assert.equal(lines.length, 2);
  for (const l of lines) assert.ok(!l.includes("\n"), `not one line: ${l}`);
  assert.deepEqual(records(), [
    {
      ts: "2024-01-02T03:04:05.678Z",
      level: "info",
      msg: "listener bound",
      address: "127.0.0.1:10000",
    },
    { ts: "2024-01-02T03:04:06.678Z", level: "warn", msg: "two\nlines" },
  ]);
});

Deno.test("Logger drops records below its level (info by default)", () => {
  const table: [LogLevel | undefined, string[]][] = [
    [undefined, ["info", "warn", "error"]],
    ["debug", ["debug", "info", "warn", "error"]],
    ["info", ["info", "warn", "error"]],
    ["warn", ["warn", "error"]],
    ["error", ["error"]],
  ];
  for (const [level, want] of table) {
    const { log, records } = capture(level);
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    assert.deepEqual(records().map((r) => r.level), want, `level ${level}`);
    for (const l of ["debug", "info", "warn", "error"] as const) {
      assert.equal(log.enabled(l), want.includes(l), `level ${level}: enabled(${l})`);
    }
  }
});

Deno.test("Logger.child adds fields to every record and keeps the level", () => {
  const { log, records } = capture("warn", { service: "skiff" });
  const conn = log.child({ listener: "in", conn: 1 });
  const req = conn.child({ conn: 2, request_id: "r1" });
  req.info("dropped: below warn");
  req.warn("slow", { ms: 12 });
  conn.error("closed");
  log.warn("plain");
  assert.deepEqual(records().map(({ ts: _, ...r }) => r), [
    {
      level: "warn",
      msg: "slow",
      service: "skiff",
      listener: "in",
      conn: 2,
      request_id: "r1",
      ms: 12,
    },
    { level: "error", msg: "closed", service: "skiff", listener: "in", conn: 1 },
    { level: "warn", msg: "plain", service: "skiff" },
  ]);
});

Deno.test("Logger writes Error values as name and message, also nested", () => {
  const { log, records } = capture();
  log.error("request failed", {
    err: new TypeError("bad header"),
    cause: { inner: new TimeoutError("route timeout", 100) },
    list: [new RangeError("too big")],
  });
  const [r] = records();
  assert.equal(r.err, "TypeError: bad header");
  assert.deepEqual(r.cause, { inner: "TimeoutError: The route timeout of 100 ms expired" });
  assert.deepEqual(r.list, ["RangeError: too big"]);
});
