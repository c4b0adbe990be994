/**
 * Names the JavaScript in a callgrind profile of skiff. The deno binary ships without
 * symbols and V8's JIT code has none either, so `callgrind_annotate` lists bare addresses;
 * with V8's `--perf-basic-prof` the process writes `/tmp/perf-PID.map` (start, size, name
 * of every code object, builtins included), and this script puts the names back and sums the
 * self cost per function.
 *
 *   KEEP=/tmp/cg V8_EXTRA=--perf-basic-prof TARGETS=skiff bash bench/instr_per_request.sh
 *   deno run -A bench/callgrind_js.ts /tmp/cg/cg.skiff.3 /tmp/perf-PID.map [N] [requests]
 *
 * (PID is on the dump's `pid:` line.) Prints the top N functions (default 60) by self
 * instructions per request (REQUESTS: the requests in the dump, default 10000, the script's
 * N). Names are approximate: V8 reuses the addresses of freed code. `??? [deno]` is Rust,
 * V8's C++ and GC, which have no symbols. With `--callers NAME_PART` it also lists the calls
 * into functions whose name contains NAME_PART, by caller, with their inclusive cost.
 * Builtins and the runtime's C++ are attributed unreliably here (shared trampolines mix the
 * inclusive costs of different calls): bench/native_profile.sh gives their shares natively.
 */

interface Range {
  start: number;
  end: number;
  name: string;
}

const callersAt = Deno.args.indexOf("--callers");
const callersOf = callersAt >= 0 ? Deno.args[callersAt + 1] : undefined;
const [dump, mapFile, topArg, reqArg] = callersAt >= 0
  ? Deno.args.filter((_, i) => i !== callersAt && i !== callersAt + 1)
  : Deno.args;
if (!dump || !mapFile) {
  console.error("usage: callgrind_js.ts DUMP PERF_MAP [TOP] [REQUESTS] [--callers NAME_PART]");
  Deno.exit(2);
}
const top = Number(topArg ?? 60);
const requests = Number(reqArg ?? 10000);

// In logging order: V8 reuses the addresses of code it freed, so the entry logged last
// that holds an address is the one that was there at the end.
const ranges: Range[] = [];
for (const line of (await Deno.readTextFile(mapFile)).split("\n")) {
  const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
  if (!m) continue;
  const start = parseInt(m[1], 16);
  ranges.push({ start, end: start + parseInt(m[2], 16), name: m[3] });
}
const cache = new Map<number, string | undefined>();

/** The code object holding `addr` (the one logged last). */
function lookup(addr: number): string | undefined {
  if (cache.has(addr)) return cache.get(addr);
  let found: string | undefined;
  for (let k = ranges.length - 1; k >= 0; k--) {
    if (ranges[k].start <= addr && addr < ranges[k].end) {
      found = ranges[k].name;
      break;
    }
  }
  cache.set(addr, found);
  return found;
}

// Self cost per function straight from the dump: a cost line counts for the current `fn=`
// unless it follows a `calls=` line (that one is the callee's inclusive cost).
const names = new Map<string, string>(); // "(id)" -> name, for compressed names
const byName = new Map<string, number>();
let total = 0;
let fn = "";
let obj = "";
const objs = new Map<string, string>();
let afterCall = false;
let callee = "";
/** Inclusive cost of calls into functions named like `callersOf`, by caller and callee. */
const calls = new Map<string, number>();
function named(map: Map<string, string>, spec: string): string {
  const m = /^\((\d+)\)(?: (.*))?$/.exec(spec);
  if (!m) return spec;
  if (m[2] !== undefined) map.set(m[1], m[2]);
  return map.get(m[1]) ?? spec;
}
for (const line of (await Deno.readTextFile(dump)).split("\n")) {
  if (line.startsWith("fn=")) {
    fn = named(names, line.slice(3));
    const a = /^0x([0-9a-f]+)/.exec(fn);
    if (a) {
      fn = lookup(parseInt(a[1], 16)) ?? `??? [${obj.split("/").pop()}]`;
    } else fn = `${fn} [${obj.split("/").pop()}]`;
    continue;
  }
  if (line.startsWith("ob=")) {
    obj = named(objs, line.slice(3));
    continue;
  }
  if (line.startsWith("cfn=") || line.startsWith("cob=")) {
    // keep the compression tables complete
    if (line.startsWith("cfn=")) {
      callee = named(names, line.slice(4));
      const a = /^0x([0-9a-f]+)/.exec(callee);
      if (a) callee = lookup(parseInt(a[1], 16)) ?? "???";
    } else named(objs, line.slice(4));
    continue;
  }
  if (line.startsWith("calls=")) {
    afterCall = true;
    continue;
  }
  const c = /^([+-]?\d+|\*)\s+(\d+)/.exec(line);
  if (!c) continue;
  if (afterCall) {
    afterCall = false;
    if (callersOf !== undefined && callee.includes(callersOf)) {
      const key = `${fn}  ->  ${callee}`;
      calls.set(key, (calls.get(key) ?? 0) + Number(c[2]));
    }
    continue;
  }
  const cost = Number(c[2]);
  total += cost;
  byName.set(fn, (byName.get(fn) ?? 0) + cost);
}
const rows = [...byName].sort((a, b) => b[1] - a[1]);
console.log(`total ${Math.round(total / requests)} instructions per request`);
for (const [name, cost] of rows.slice(0, top)) {
  console.log(
    `${String(Math.round(cost / requests)).padStart(7)}  ${
      (100 * cost / total).toFixed(1).padStart(5)
    }%  ${name}`,
  );
}
if (callersOf !== undefined) {
  console.log(`\ncalls into functions named like "${callersOf}" (inclusive, per request):`);
  for (const [edge, cost] of [...calls].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${String(Math.round(cost / requests)).padStart(7)}  ${edge}`);
  }
}
