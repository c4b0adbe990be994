import assert from "node:assert/strict";
import { type Config, parseConfig } from "../../src/config/mod.ts";
import { Logger, systemClock, VirtualClock } from "../../src/core/mod.ts";
import type { ReloadOutcome } from "../../src/runtime/lifecycle.ts";
import { ConfigReloader, type WatchFs } from "../../src/runtime/config_reloader.ts";
import { MetricsRegistry, renderPrometheus } from "../../src/telemetry/mod.ts";
import { waitFor } from "../_harness/mod.ts";

const config = (port: number, extra = "") =>
  `listeners:
  - name: web
    address: 127.0.0.1:${port}
    routes: [{ cluster: app }]
clusters:
  - name: app
    endpoints: [{ address: "127.0.0.1:9" }]
${extra}`;

/** A target that records what it was asked to apply and answers `answer`. */
function fakeTarget(initial: Config) {
  let version = 1;
  const applied: Config[] = [];
  const target = {
    registry: new MetricsRegistry(),
    config: initial,
    applied,
    answer: (_c: Config): ReloadOutcome => ({ ok: true, version: ++version }),
    gate: undefined as Promise<void> | undefined,
    async reload(c: Config): Promise<ReloadOutcome> {
      applied.push(c);
      await target.gate;
      return target.answer(c);
    },
  };
  return target;
}

/** The value of one exposed sample, e.g. `skiff_config_reloads_total{result="ok"}`. */
function sample(registry: MetricsRegistry, series: string): number | undefined {
  const line = renderPrometheus(registry).split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function setup(opts: { clock?: VirtualClock; watchFs?: WatchFs; debounceMs?: number } = {}) {
  const dir = await Deno.makeTempDir({ prefix: "skiff_reloader_" });
  const file = `${dir}/skiff.yaml`;
  await Deno.writeTextFile(file, config(10000));
  const target = fakeTarget(parseConfig(config(10000), file));
  const lines: Record<string, unknown>[] = [];
  const clock = opts.clock ?? new VirtualClock();
  const log = new Logger({ clock, sink: (l) => lines.push(JSON.parse(l)), level: "debug" });
  const reloader = new ConfigReloader({
    file,
    target,
    log,
    clock,
    watchFs: opts.watchFs,
    debounceMs: opts.debounceMs,
  });
  return {
    dir,
    file,
    target,
    lines,
    reloader,
    [Symbol.asyncDispose]: async () => {
      reloader.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("reloader: a changed file is applied, counted and becomes the version", async () => {
  const clock = new VirtualClock(1_800_000_000_000);
  await using s = await setup({ clock });
  assert.equal(sample(s.target.registry, "skiff_config_version"), 1);
  assert.equal(
    sample(s.target.registry, "skiff_config_last_reload_success_timestamp_seconds"),
    1_800_000_000,
  );
  await Deno.writeTextFile(s.file, config(10001));
  clock.advance(5000);
  const report = await s.reloader.reloadNow("signal");
  assert.equal(report.result, "ok");
  assert.equal(report.version, 2);
  assert.equal(s.target.applied.length, 1);
  assert.equal(s.target.applied[0].listeners[0].address.port, 10001);
  const r = s.target.registry;
  assert.equal(sample(r, 'skiff_config_reloads_total{result="ok"}'), 1);
  assert.equal(sample(r, "skiff_config_reload_failures_total"), 0);
  assert.equal(sample(r, "skiff_config_version"), 2);
  assert.equal(sample(r, "skiff_config_last_reload_success_timestamp_seconds"), 1_800_000_005);
  assert.ok(s.lines.some((l) => l.msg === "config reloaded" && l.trigger === "signal"));
});

Deno.test("reloader: an invalid file is reported at line and column; nothing applied", async () => {
  await using s = await setup();
  await Deno.writeTextFile(s.file, config(10000).replace("routes:", "routez:"));
  const report = await s.reloader.reloadNow("admin");
  assert.equal(report.result, "invalid");
  assert.equal(report.ok, false);
  assert.equal(report.version, 1);
  assert.equal(s.target.applied.length, 0);
  const line = s.lines.find((l) => l.level === "error");
  assert.ok(line, JSON.stringify(s.lines));
  assert.match(String(line.error), new RegExp(`${s.file}:4:5: listeners\\[0\\]\\.routez: `));
  assert.match(String(line.error), /fix: /);
  const r = s.target.registry;
  assert.equal(sample(r, 'skiff_config_reloads_total{result="invalid"}'), 1);
  assert.equal(sample(r, "skiff_config_reload_failures_total"), 1);
  assert.equal(sample(r, "skiff_config_version"), 1);
});

Deno.test("reloader: a file that validates to the active config changes nothing", async () => {
  await using s = await setup();
  await Deno.writeTextFile(s.file, "# only a comment more\n" + config(10000));
  const report = await s.reloader.reloadNow("signal");
  assert.equal(report.result, "unchanged");
  assert.equal(s.target.applied.length, 0);
  assert.equal(sample(s.target.registry, 'skiff_config_reloads_total{result="ok"}'), 0);
});

Deno.test(
  "reloader: after a version applied with a listener left unbound, the same file or the one before is applied again",
  async () => {
    await using s = await setup();
    let version = 1;
    s.target.answer = () => ({
      ok: true,
      version: ++version,
      changes: {
        listeners: { added: [], removed: [], rebound: ["web"], kept: [], failed: ["web"] },
        clusters: { added: [], removed: [], changed: [], kept: ["app"] },
      },
    });
    await Deno.writeTextFile(s.file, config(10001));
    const first = await s.reloader.reloadNow("signal");
    assert.equal(first.result, "ok");
    const line = s.lines.find((l) => l.level === "error");
    assert.ok(line, JSON.stringify(s.lines));
    assert.match(String(line.msg), /could not be bound; reload again to retry/);
    assert.deepEqual(line.listeners, ["web"]);
    // Not "unchanged": the listener that is missing gets another try.
    const second = await s.reloader.reloadNow("signal");
    assert.equal(second.result, "ok");
    assert.equal(s.target.applied.length, 2);
    // Nor is the file from before the failure: what runs lacks the listener it had.
    await Deno.writeTextFile(s.file, config(10000));
    const back = await s.reloader.reloadNow("signal");
    assert.equal(back.result, "ok");
    assert.equal(s.target.applied.length, 3);
  },
);

Deno.test("reloader: a refused version is counted, and the same file is tried again", async () => {
  await using s = await setup();
  s.target.answer = () => ({ ok: false, version: 1, error: "listener web: address in use" });
  await Deno.writeTextFile(s.file, config(10001));
  const first = await s.reloader.reloadNow("signal");
  assert.equal(first.result, "refused");
  assert.equal(first.error, "listener web: address in use");
  s.target.answer = () => ({ ok: true, version: 2 });
  const second = await s.reloader.reloadNow("signal");
  assert.equal(second.result, "ok");
  assert.equal(s.target.applied.length, 2);
  const r = s.target.registry;
  assert.equal(sample(r, 'skiff_config_reloads_total{result="refused"}'), 1);
  assert.equal(sample(r, 'skiff_config_reloads_total{result="ok"}'), 1);
  assert.equal(sample(r, "skiff_config_reload_failures_total"), 1);
  // Back to the active content: nothing to do.
  assert.equal((await s.reloader.reloadNow("signal")).result, "unchanged");
});

Deno.test("reloader: requests during a reload are served by one reload after it", async () => {
  await using s = await setup();
  const gate = Promise.withResolvers<void>();
  s.target.gate = gate.promise;
  await Deno.writeTextFile(s.file, config(10001));
  const first = s.reloader.reloadNow("signal");
  await waitFor("the first reload to reach the target", () => s.target.applied.length === 1);
  await Deno.writeTextFile(s.file, config(10002));
  const second = s.reloader.reloadNow("watch");
  const third = s.reloader.reloadNow("admin");
  assert.equal(second, third, "one follow-up reload for both");
  assert.equal(s.target.applied.length, 1, "the follow-up waits for the running reload");
  gate.resolve();
  assert.equal((await first).version, 2);
  assert.equal((await third).version, 3);
  assert.deepEqual(s.target.applied.map((c) => c.listeners[0].address.port), [10001, 10002]);
});

Deno.test("reloader: sections that need a restart are logged as a warning", async () => {
  await using s = await setup();
  s.target.answer = () => ({ ok: true, version: 2, restartNeeded: ["admin"] });
  await Deno.writeTextFile(s.file, config(10000, 'admin: { address: "127.0.0.1:9901" }\n'));
  await s.reloader.reloadNow("signal");
  const warn = s.lines.find((l) => l.level === "warn");
  assert.deepEqual(warn?.sections, ["admin"]);
});

/** A WatchFs whose events the test pushes. */
function fakeWatch() {
  const events: Deno.FsEvent[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  const watchFs: WatchFs = () => ({
    close: () => {
      closed = true;
      wake?.();
    },
    async *[Symbol.asyncIterator]() {
      while (!closed) {
        const e = events.shift();
        if (e) yield e;
        else await new Promise<void>((r) => wake = r);
      }
    },
  });
  const push = (kind: Deno.FsEvent["kind"], ...paths: string[]) => {
    events.push({ kind, paths });
    wake?.();
  };
  return { watchFs, push };
}

/** Lets the watch loop take the events pushed so far. */
const settle = () => new Promise((r) => setTimeout(r, 0));

Deno.test("reloader: watch reloads once per burst of changes, after the debounce", async () => {
  const clock = new VirtualClock();
  const fake = fakeWatch();
  await using s = await setup({ clock, watchFs: fake.watchFs, debounceMs: 200 });
  s.reloader.watch();
  await Deno.writeTextFile(s.file, config(10001));
  fake.push("create", `${s.dir}/.skiff.yaml.swp`); // another file: ignored
  await settle();
  clock.advance(1000);
  await settle();
  assert.equal(s.target.applied.length, 0);
  for (let i = 0; i < 3; i++) {
    fake.push("modify", s.file);
    await settle();
    clock.advance(150);
  }
  assert.equal(s.target.applied.length, 0, "still within the debounce");
  clock.advance(50);
  await waitFor("the debounced reload", () => s.target.applied.length === 1);
  // A Kubernetes ConfigMap update swaps the ..data symlink; the file name never shows up.
  await Deno.writeTextFile(s.file, config(10002));
  fake.push("rename", `${s.dir}/..data_tmp`, `${s.dir}/..data`);
  await settle();
  clock.advance(200);
  await waitFor("the reload after the ..data swap", () => s.target.applied.length === 2);
  assert.equal(s.target.applied[1].listeners[0].address.port, 10002);
});

/** A reloader on `file` with a real clock and a real watch, and its fake target. */
function realWatch(file: string) {
  const target = fakeTarget(parseConfig(config(10000), file));
  const reloader = new ConfigReloader({
    file,
    target,
    log: new Logger({ clock: systemClock, sink: () => {}, level: "error" }),
    clock: systemClock,
    debounceMs: 20,
  });
  return { target, reloader, [Symbol.dispose]: () => reloader.close() };
}

Deno.test("reloader: watch follows a file an editor replaces by a rename", async () => {
  const dir = await Deno.makeTempDir({ prefix: "skiff_reloader_" });
  try {
    const file = `${dir}/skiff.yaml`;
    await Deno.writeTextFile(file, config(10000));
    using w = realWatch(file);
    w.reloader.watch();
    await waitFor("the reload after a rename over the file", async () => {
      // Until the watch is set up a change may go unseen: replace the file again meanwhile.
      await Deno.writeTextFile(`${dir}/.skiff.yaml.tmp`, config(10001));
      await Deno.rename(`${dir}/.skiff.yaml.tmp`, file);
      return w.target.applied.length >= 1;
    });
    assert.equal(w.target.applied.at(-1)!.listeners[0].address.port, 10001);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("reloader: watch follows a Kubernetes ConfigMap volume's symlink swap", async () => {
  const dir = await Deno.makeTempDir({ prefix: "skiff_reloader_" });
  try {
    // The layout the kubelet writes: skiff.yaml → ..data/skiff.yaml, ..data → ..v1
    const version = async (name: string, port: number) => {
      await Deno.mkdir(`${dir}/${name}`);
      await Deno.writeTextFile(`${dir}/${name}/skiff.yaml`, config(port));
    };
    await version("..v1", 10000);
    await Deno.symlink("..v1", `${dir}/..data`);
    await Deno.symlink("..data/skiff.yaml", `${dir}/skiff.yaml`);
    using w = realWatch(`${dir}/skiff.yaml`);
    w.reloader.watch();
    let n = 1;
    await waitFor("the reload after a swap of ..data", async () => {
      // Until the watch is set up a swap may go unseen: swap again meanwhile.
      await version(`..v${++n}`, 10000 + n);
      await Deno.symlink(`..v${n}`, `${dir}/..data_tmp`);
      await Deno.rename(`${dir}/..data_tmp`, `${dir}/..data`);
      return w.target.applied.length >= 1;
    });
    const port = w.target.applied.at(-1)!.listeners[0].address.port;
    assert.ok(port > 10001 && port <= 10000 + n, `port ${port} is one of the swapped-in versions`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
