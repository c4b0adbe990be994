import assert from "node:assert/strict";
import {
  CounterFamily,
  DEFAULT_LATENCY_BUCKETS,
  type MetricCells,
  MetricsRegistry,
  type MetricStorage,
} from "../../src/telemetry/mod.ts";

Deno.test("counter names get the _total suffix once", () => {
  const r = new MetricsRegistry();
  const a = r.counter("skiff_requests", "Requests.");
  const b = r.counter("skiff_requests_total", "Requests.");
  assert.equal(a.name, "skiff_requests_total");
  assert.equal(a, b);
});

Deno.test("registering a compatible family again returns the same family and children", () => {
  const r = new MetricsRegistry();
  const a = r.counter("c", "Help.", ["x"]);
  a.labels("1").inc(2);
  const b = r.counter("c", "Help.", ["x"]);
  assert.equal(a, b);
  assert.equal(b.labels("1").value, 2);
  const h1 = r.histogram("h_seconds", "H.", [], [0.1, 1]);
  assert.equal(r.histogram("h_seconds", "H.", [], [0.1, 1, Infinity]), h1);
  assert.equal(
    r.histogram("d_seconds", "D."),
    r.histogram("d_seconds", "D.", [], DEFAULT_LATENCY_BUCKETS),
  );
});

Deno.test("registering an incompatible family throws TypeError naming the difference", () => {
  const r = new MetricsRegistry();
  r.counter("c", "Help.", ["x"]);
  r.histogram("h_seconds", "H.", [], [0.1, 1]);
  r.gaugeFn("f", "F.", () => 1);
  assert.throws(() => r.gauge("c_total", "Help.", ["x"]), {
    name: "TypeError",
    message: /as a counter/,
  });
  assert.throws(() => r.counter("c", "Other help.", ["x"]), {
    name: "TypeError",
    message: /with help/,
  });
  assert.throws(() => r.counter("c", "Help.", ["y"]), {
    name: "TypeError",
    message: /with labels \[x\]/,
  });
  assert.throws(() => r.counter("c", "Help."), { name: "TypeError", message: /with labels/ });
  assert.throws(() => r.histogram("h_seconds", "H.", [], [0.1, 2]), {
    name: "TypeError",
    message: /with buckets \[0.1, 1\]/,
  });
  assert.throws(() => r.gauge("f", "F."), { name: "TypeError", message: /callback gauge/ });
  assert.throws(() => r.gaugeFn("f", "F.", () => 2), TypeError);
  assert.throws(() => r.gaugeFn("c_total", "F.", () => 2), TypeError);
});

Deno.test("names that would expose the same sample line are rejected", () => {
  const r = new MetricsRegistry();
  r.histogram("lat", "L.");
  assert.throws(() => r.gauge("lat_count", "G."), { name: "TypeError", message: /"lat_count"/ });
  const r2 = new MetricsRegistry();
  r2.gauge("x_bucket", "G.");
  assert.throws(() => r2.histogram("x", "H."), { name: "TypeError", message: /"x_bucket"/ });
  assert.equal(r2.has("x"), false);
});

Deno.test("invalid metric and label names throw TypeError", () => {
  const r = new MetricsRegistry();
  assert.throws(() => r.counter("1abc", "H."), { name: "TypeError", message: /"1abc_total"/ });
  assert.throws(() => r.gauge("a-b", "H."), TypeError);
  assert.throws(() => r.gauge("g", "H.", ["bad-label"]), TypeError);
  assert.throws(() => r.gauge("g", "H.", ["__reserved"]), TypeError);
  assert.throws(() => r.gauge("g", "H.", ["a", "a"]), { name: "TypeError", message: /twice/ });
  assert.throws(() => r.histogram("h", "H.", ["le"]), { name: "TypeError", message: /"le"/ });
  assert.equal(r.gauge("g", "H.", ["le"]).labelNames[0], "le"); // only histograms reserve le
});

Deno.test("labels() caches one child per value tuple and checks arity", () => {
  const r = new MetricsRegistry();
  const f = r.counter("c", "H.", ["a", "b"]);
  const child = f.labels("x", "y");
  assert.equal(f.labels("x", "y"), child);
  assert.notEqual(f.labels("xy", ""), child);
  assert.notEqual(f.labels("", "xy"), f.labels("xy", ""));
  assert.equal(f.size, 3);
  // Runtime checks for callers that bypass the typed tuple.
  const loose = f as unknown as CounterFamily<readonly string[]>;
  assert.throws(() => loose.labels("x"), {
    name: "TypeError",
    message: /2 label\(s\) \[a, b\] but got 1/,
  });
  assert.throws(() => loose.labels("x", 1 as unknown as string), TypeError);
  const single = r.counter("s", "H.", ["a"]) as unknown as CounterFamily<readonly string[]>;
  single.labels("1:x1:y");
  assert.throws(() => single.labels("x", "y"), TypeError);
});

Deno.test("remove() and clear() stop exposing children", () => {
  const r = new MetricsRegistry();
  const f = r.gauge("g", "H.", ["cluster"]);
  f.labels("a").set(1);
  f.labels("b").set(2);
  assert.equal(f.remove("a"), true);
  assert.equal(f.remove("a"), false);
  assert.deepEqual(r.collect()[0].series.map((s) => s.labelValues), [["b"]]);
  f.clear();
  assert.equal(f.size, 0);
});

Deno.test("counter inc rejects negative and NaN; gauge goes both ways", () => {
  const r = new MetricsRegistry();
  const c = r.counter("c", "H.").labels();
  c.inc();
  c.inc(2.5);
  assert.equal(c.value, 3.5);
  assert.throws(() => c.inc(-1), RangeError);
  assert.throws(() => c.inc(NaN), RangeError);
  assert.equal(c.value, 3.5);
  const g = r.gauge("g", "H.").labels();
  g.inc();
  g.inc(4);
  g.dec();
  g.dec(2);
  assert.equal(g.value, 2);
  g.set(-7.5);
  assert.equal(g.value, -7.5);
});

Deno.test("collect() runs callback gauges at scrape time and sorts families by name", () => {
  const r = new MetricsRegistry();
  let n = 1;
  r.gaugeFn("zz", "Z.", () => n);
  r.counter("aa", "A.");
  assert.deepEqual(r.collect().map((f) => f.name), ["aa_total", "zz"]);
  n = 42;
  const zz = r.collect()[1];
  assert.equal(zz.type === "gauge" && zz.series[0].value, 42);
});

Deno.test("children update values only through the injected storage", () => {
  const allocations: [string, readonly string[], number][] = [];
  const ops: string[] = [];
  const storage: MetricStorage = {
    allocate(name, labelValues, size): MetricCells {
      allocations.push([name, labelValues, size]);
      const v = new Array<number>(size).fill(0);
      return {
        add: (i, d) => void (ops.push(`${name}[${i}]+=${d}`), v[i] += d),
        set: (i, x) => void (ops.push(`${name}[${i}]=${x}`), v[i] = x),
        get: (i) => v[i],
      };
    },
  };
  const r = new MetricsRegistry({ storage });
  r.counter("c", "H.", ["k"]).labels("v").inc(2);
  r.gauge("g", "H.").labels().set(5);
  r.histogram("h", "H.", [], [1, 2]).labels().observe(1.5);
  assert.deepEqual(allocations, [["c_total", ["v"], 1], ["g", [], 1], ["h", [], 4]]);
  assert.deepEqual(ops, ["c_total[0]+=2", "g[0]=5", "h[1]+=1", "h[3]+=1.5"]);
});

Deno.test("gaugeFamilyFn lists its series at every scrape and owns its name", () => {
  const r = new MetricsRegistry();
  const queues = new Map([["a", 3]]);
  r.gaugeFamilyFn(
    "q_length",
    "Q.",
    ["queue"],
    () => [...queues].map(([name, n]) => ({ labelValues: [name] as const, value: n })),
  );
  const series = () => {
    const f = r.collect()[0];
    return f.type === "gauge" ? f.series.map((s) => [s.labelValues, s.value]) : [];
  };
  assert.deepEqual(series(), [[["a"], 3]]);
  queues.set("a", 1).set("b", 7);
  assert.deepEqual(series(), [[["a"], 1], [["b"], 7]]);
  assert.deepEqual(series(), [[["a"], 1], [["b"], 7]], "collecting changes nothing");
  assert.throws(() => r.gaugeFamilyFn("q_length", "Q.", ["queue"], () => []), TypeError);
  assert.throws(() => r.gauge("q_length", "Q.", ["queue"]), /callback gauge/);
  assert.throws(() => r.gaugeFamilyFn("bad", "B.", ["__x"], () => []), TypeError);
});

Deno.test("a gaugeFamilyFn series without one value per label fails the scrape", () => {
  const r = new MetricsRegistry();
  r.gaugeFamilyFn("g", "G.", ["a", "b"], () => [
    { labelValues: ["only one"] as unknown as readonly [string, string], value: 1 },
  ]);
  assert.throws(() => r.collect(), { name: "TypeError", message: /2 label\(s\).*1 value/ });
});
