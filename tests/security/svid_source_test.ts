import assert from "node:assert/strict";
import { createPrivateKey as createKey, X509Certificate } from "node:crypto";
import { join } from "node:path";
import { Logger, systemClock, VirtualClock } from "../../src/core/mod.ts";
import {
  SvidError,
  type SvidSnapshot,
  SvidSource,
  writeSvidFiles,
} from "../../src/security/mod.ts";
import { MetricsRegistry, renderPrometheus } from "../../src/telemetry/mod.ts";
import { waitFor } from "../_harness/mod.ts";
import { HOUR, testCa, testSvid } from "./_fixtures.ts";

const ca = await testCa();

interface Fixture {
  dir: string;
  metrics: MetricsRegistry;
  logs: Record<string, unknown>[];
  log: Logger;
  [Symbol.asyncDispose](): Promise<void>;
}

async function fixture(clock = systemClock): Promise<Fixture> {
  const dir = await Deno.makeTempDir();
  const logs: Record<string, unknown>[] = [];
  return {
    dir,
    metrics: new MetricsRegistry(),
    logs,
    log: new Logger({ clock, sink: (line) => logs.push(JSON.parse(line)), level: "debug" }),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

function metric(metrics: MetricsRegistry, series: string): number | undefined {
  const line = renderPrometheus(metrics).split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

Deno.test("open loads the three files and reports the expiry", async () => {
  await using f = await fixture();
  const svid = await testSvid(ca, "/ns/a/sa/web");
  await writeSvidFiles(f.dir, svid);
  using source = await SvidSource.open({ ...f, clock: systemClock });
  const cur = source.current();
  assert.equal(cur.id.toString(), "spiffe://example.org/ns/a/sa/web");
  assert.equal(cur.serialNumber, svid.serialNumber);
  assert.equal(cur.cert, svid.certPem);
  assert.equal(cur.key, svid.keyPem);
  assert.equal(cur.ca, ca.certPem);
  assert.equal(
    metric(f.metrics, "skiff_svid_expiry_timestamp_seconds"),
    cur.notAfter.getTime() / 1000,
  );
  assert.equal(metric(f.metrics, "skiff_svid_rotations_total"), 0);
});

Deno.test("open fails on a missing file, a foreign key or an empty bundle, and counts it", async () => {
  await using f = await fixture();
  const good = await testSvid(ca, "/a");
  const other = await testSvid(ca, "/b");
  const open = () => SvidSource.open({ ...f, clock: systemClock });
  await assert.rejects(open(), (e) => e instanceof SvidError && e.reason === "read");
  await writeSvidFiles(f.dir, { ...good, keyPem: other.keyPem });
  await assert.rejects(open(), (e) => e instanceof SvidError && e.reason === "key_mismatch");
  await writeSvidFiles(f.dir, {
    ...good,
    keyPem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
  });
  await assert.rejects(open(), (e) => e instanceof SvidError && e.reason === "key");
  await writeSvidFiles(f.dir, { ...good, bundlePem: "" });
  await assert.rejects(open(), (e) => e instanceof SvidError && e.reason === "bundle");
  for (const reason of ["read", "key_mismatch", "key", "bundle"]) {
    assert.equal(metric(f.metrics, `skiff_svid_load_failures_total{reason="${reason}"}`), 1);
  }
});

Deno.test("reload keeps the current SVID until all three files agree", async () => {
  await using f = await fixture();
  const first = await testSvid(ca, "/a");
  const next = await testSvid(ca, "/a");
  await writeSvidFiles(f.dir, first);
  using source = await SvidSource.open({ ...f, clock: systemClock });
  const seen: string[] = [];
  source.onChange((s) => seen.push(s.serialNumber));

  assert.equal(await source.reload(), false, "unchanged files are no rotation");
  // The agent has written the new certificate but not yet its key.
  await Deno.writeTextFile(join(f.dir, "svid.pem"), next.certPem);
  assert.equal(await source.reload(), false);
  assert.equal(source.current().serialNumber, first.serialNumber);
  assert.equal(metric(f.metrics, 'skiff_svid_load_failures_total{reason="key_mismatch"}'), 1);
  assert.ok(f.logs.some((l) => l.level === "warn" && l.reason === "key_mismatch"));

  await Deno.writeTextFile(join(f.dir, "svid_key.pem"), next.keyPem);
  assert.equal(await source.reload(), true);
  assert.equal(source.current().serialNumber, next.serialNumber);
  assert.deepEqual(seen, [next.serialNumber]);
  assert.equal(metric(f.metrics, "skiff_svid_rotations_total"), 1);
  assert.ok(f.logs.some((l) => l.msg === "SVID rotated" && l.serial === next.serialNumber));
});

Deno.test("reload refuses an expired or not-yet-valid SVID and a CA certificate", async () => {
  await using f = await fixture();
  const first = await testSvid(ca, "/a");
  await writeSvidFiles(f.dir, first);
  using source = await SvidSource.open({ ...f, clock: systemClock });
  const bad: [string, Promise<Parameters<typeof writeSvidFiles>[1]>][] = [
    ["expired", testSvid(ca, "/a", { fromMs: -2 * HOUR, toMs: -HOUR })],
    ["not_yet_valid", testSvid(ca, "/a", { fromMs: HOUR, toMs: 2 * HOUR })],
    ["ca_leaf", testSvid(ca, "/a", { ca: true })],
    ["uri_san", testSvid(ca, "/a", { uriSans: [] })],
  ];
  for (const [reason, made] of bad) {
    await writeSvidFiles(f.dir, await made);
    assert.equal(await source.reload(), false, reason);
    assert.equal(source.current().serialNumber, first.serialNumber, reason);
    assert.equal(metric(f.metrics, `skiff_svid_load_failures_total{reason="${reason}"}`), 1);
  }
});

Deno.test("a bundle-only change is a rotation too", async () => {
  await using f = await fixture();
  const svid = await testSvid(ca, "/a");
  await writeSvidFiles(f.dir, svid);
  using source = await SvidSource.open({ ...f, clock: systemClock });
  const other = await testCa("example.org");
  await Deno.writeTextFile(join(f.dir, "bundle.pem"), ca.certPem + other.certPem);
  assert.equal(await source.reload(), true);
  assert.equal(source.current().ca, ca.certPem + other.certPem);
  assert.equal(source.current().serialNumber, svid.serialNumber);
});

Deno.test("watch picks up files written one at a time and switches once", async () => {
  await using f = await fixture();
  await writeSvidFiles(f.dir, await testSvid(ca, "/a"));
  using source = await SvidSource.open({ ...f, clock: systemClock, debounceMs: 50 });
  const seen: SvidSnapshot[] = [];
  source.onChange((s) => seen.push(s));
  source.watch();
  const next = await testSvid(ca, "/b");
  await writeSvidFiles(f.dir, next);
  await waitFor("the rotated SVID", () => source.current().serialNumber === next.serialNumber);
  assert.equal(source.current().id.path, "/b");
  for (const s of seen) {
    assert.ok(new X509Certificate(s.cert).checkPrivateKey(createKey(s.key)), "key matches cert");
  }
  // Key first, then certificate, then an unchanged bundle: exactly one consistent switch.
  assert.deepEqual(seen.map((s) => s.serialNumber), [next.serialNumber]);
});

Deno.test("expiry: a warning at two thirds of the lifetime, an error at the end", async () => {
  const clock = new VirtualClock(Date.now());
  await using f = await fixture(clock);
  const start = clock.now();
  await writeSvidFiles(f.dir, await testSvid(ca, "/a", { now: start, fromMs: 0, toMs: 3 * HOUR }));
  using _source = await SvidSource.open({ ...f, clock });
  const warned = () => f.logs.filter((l) => l.level === "warn" && /third/.test(String(l.msg)));
  const expired = () => f.logs.filter((l) => l.level === "error" && l.msg === "SVID expired");
  clock.advance(2 * HOUR - 2000);
  assert.equal(warned().length, 0);
  clock.advance(4000);
  assert.equal(warned().length, 1);
  assert.equal(warned()[0].spiffe_id, "spiffe://example.org/a");
  assert.equal(expired().length, 0);
  clock.advance(HOUR);
  assert.equal(expired().length, 1);
  assert.equal(warned().length, 1);
});

Deno.test("expiry alarms longer than a timer can wait still fire, and rotation re-arms them", async () => {
  const DAY = 24 * HOUR;
  const clock = new VirtualClock(Date.now());
  await using f = await fixture(clock);
  const start = clock.now();
  const caLong = await testCa("example.org", start - DAY);
  await writeSvidFiles(
    f.dir,
    await testSvid(caLong, "/a", { now: start, fromMs: 0, toMs: 90 * DAY }),
  );
  using source = await SvidSource.open({ ...f, clock });
  const warned = () => f.logs.filter((l) => l.level === "warn" && /third/.test(String(l.msg)));
  clock.advance(59 * DAY);
  assert.equal(warned().length, 0);
  clock.advance(2 * DAY);
  assert.equal(warned().length, 1, "warned at day 60 of 90");

  // A fresh SVID moves the warning: nothing until two thirds of its own lifetime.
  const now = clock.now();
  const caNow = await testCa("example.org", now);
  await writeSvidFiles(f.dir, await testSvid(caNow, "/a", { now, fromMs: 0, toMs: 3 * HOUR }));
  assert.equal(await source.reload(), true);
  clock.advance(HOUR);
  assert.equal(warned().length, 1);
  clock.advance(HOUR + 1000);
  assert.equal(warned().length, 2);
});
