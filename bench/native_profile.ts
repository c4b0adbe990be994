/**
 * Classifies `perf script -F ip,dso` samples of a Deno process by V8's `--perf-basic-prof`
 * map (see bench/native_profile.sh): kernel, Deno runtime (Rust and V8's C++, no symbols),
 * V8 builtins, JavaScript, libc and other libraries, then the top named functions.
 *
 *   deno run --allow-read bench/native_profile.ts SAMPLES PERF_MAP [TOP] [TURNS]
 *
 * TURNS: `perf script -F tid,time,event` of the main thread's epoll_wait enter/exit events;
 * prints how long the event loop runs between waits and how long a wait blocks.
 */

const [samplesFile, mapFile, topArg, turnsFile] = Deno.args;
if (!samplesFile || !mapFile) {
  console.error("usage: native_profile.ts SAMPLES PERF_MAP [TOP]");
  Deno.exit(2);
}
const top = Number(topArg ?? 30);

// Code objects by start address; V8 reuses the addresses of freed code, so a later entry
// replaces an earlier one that starts at the same place.
const byStart = new Map<number, { end: number; name: string }>();
// (No map for a process that is not V8, such as nginx: everything is then named by library.)
const mapText = await Deno.readTextFile(mapFile).catch(() => "");
for (const line of mapText.split("\n")) {
  const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
  if (!m) continue;
  const start = parseInt(m[1], 16);
  byStart.set(start, { end: start + parseInt(m[2], 16), name: m[3] });
}
const starts = [...byStart.keys()].sort((a, b) => a - b);

/** The code object holding `ip`, or undefined. */
function lookup(ip: number): string | undefined {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid] <= ip) lo = mid + 1;
    else hi = mid - 1;
  }
  if (hi < 0) return undefined;
  const code = byStart.get(starts[hi])!;
  return ip < code.end ? code.name : undefined;
}

const kinds = new Map<string, number>();
const named = new Map<string, number>();
let total = 0;
const add = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
for (const line of (await Deno.readTextFile(samplesFile)).split("\n")) {
  const m = /^\s*([0-9a-f]+)\s+\((.*)\)\s*$/.exec(line);
  if (!m) continue;
  total++;
  const dso = m[2];
  if (dso.includes("kernel")) {
    add(kinds, "kernel");
    continue;
  }
  const name = lookup(parseInt(m[1], 16));
  if (name !== undefined) {
    add(
      kinds,
      name.startsWith("Builtin:") || name.startsWith("BytecodeHandler:")
        ? "V8 builtins"
        : "JavaScript",
    );
    add(named, name);
  } else if (/\/deno$/.test(dso)) add(kinds, "Deno runtime (Rust, V8 C++, GC)");
  else if (/\/nginx$/.test(dso)) add(kinds, "nginx");
  else if (dso.includes("libc.so")) add(kinds, "libc");
  else add(kinds, dso.split("/").pop() || dso);
}
if (total === 0) {
  console.error("no samples");
  Deno.exit(1);
}
const pct = (n: number) => (100 * n / total).toFixed(1).padStart(5) + "%";
console.log(`${total} samples`);
for (const [k, n] of [...kinds].sort((a, b) => b[1] - a[1])) console.log(`${pct(n)}  ${k}`);
console.log(`\ntop ${top} named (JavaScript and builtins):`);
for (const [k, n] of [...named].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${pct(n)}  ${k.replace(/file:\/\/\/.*?\/src\//, "src/")}`);
}

if (turnsFile) {
  // "TID TIME: syscalls:sys_enter_epoll_wait:" lines, in time order.
  const running: number[] = [];
  const blocked: number[] = [];
  let lastEnter = -1;
  let lastExit = -1;
  for (const line of (await Deno.readTextFile(turnsFile)).split("\n")) {
    const m = /^\s*\d+\s+([\d.]+):\s+syscalls:sys_(enter|exit)_epoll_wait/.exec(line);
    if (!m) continue;
    const t = Number(m[1]) * 1000;
    if (m[2] === "enter") {
      if (lastExit >= 0) running.push(t - lastExit);
      lastEnter = t;
    } else {
      if (lastEnter >= 0) blocked.push(t - lastEnter);
      lastExit = t;
    }
  }
  const q = (v: number[], p: number) => v[Math.min(v.length - 1, Math.floor(p * v.length))];
  const row = (label: string, v: number[]) => {
    v.sort((a, b) => a - b);
    const sum = v.reduce((a, b) => a + b, 0);
    console.log(
      `${label} p50 ${q(v, 0.5).toFixed(3)} ms, p99 ${q(v, 0.99).toFixed(3)} ms, max ${
        v[v.length - 1].toFixed(3)
      } ms, ${sum.toFixed(0)} ms in all`,
    );
  };
  if (running.length > 0 && blocked.length > 0) {
    console.log(`\nevent loop, ${running.length} turns:`);
    row("  running between waits:   ", running);
    row("  blocked in epoll_wait:   ", blocked);
  }
}
