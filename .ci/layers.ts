// Dependency-direction check for src/: every module imports only its own layer or layers
// below it, dataplane/inbound and dataplane/outbound never import each other, and there are
// no import cycles between files. Exits 1 with one line per violation.

const LAYERS = [
  "core",
  "config",
  "wasm",
  "net",
  "telemetry",
  "security",
  "discovery",
  "dataplane",
  "control",
  "ebpf",
  "runtime",
  "demo",
];
const TOP = LAYERS.length; // src/main.ts

const root = Deno.args[0]
  ? new URL(`file://${await Deno.realPath(Deno.args[0])}/`)
  : new URL("../src/", import.meta.url);

async function* walk(dir: URL): AsyncGenerator<URL> {
  for await (const e of Deno.readDir(dir)) {
    const u = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
    if (e.isDirectory) yield* walk(u);
    else if (e.name.endsWith(".ts")) yield u;
  }
}

function rel(u: URL): string {
  return u.pathname.slice(root.pathname.length);
}

function layerOf(path: string): number {
  const first = path.split("/")[0];
  const i = LAYERS.indexOf(first);
  return i >= 0 ? i : TOP;
}

// `import x from "…"`, `export … from "…"`, side-effect `import "…"` and `import("…")`.
const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s(?:[^"']*?from\s*)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

const graph = new Map<string, string[]>();
const problems: string[] = [];

for await (const file of walk(root)) {
  const from = rel(file);
  const text = await Deno.readTextFile(file);
  const deps: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    if (!spec.startsWith(".")) continue;
    const to = rel(new URL(spec, file));
    deps.push(to);
    if (layerOf(to) > layerOf(from)) {
      problems.push(`${from} imports ${to}: a lower layer must not import a higher one`);
    }
    const sides = ["dataplane/inbound/", "dataplane/outbound/"];
    for (const [a, b] of [sides, [...sides].reverse()]) {
      if (from.startsWith(a) && to.startsWith(b)) {
        problems.push(`${from} imports ${to}: inbound and outbound must not import each other`);
      }
    }
  }
  graph.set(from, deps);
}

// Cycle detection (iterative DFS with colours).
const colour = new Map<string, number>();
for (const start of graph.keys()) {
  if (colour.get(start)) continue;
  const stack: [string, number][] = [[start, 0]];
  const path: string[] = [start];
  colour.set(start, 1);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const deps = graph.get(top[0]) ?? [];
    if (top[1] >= deps.length) {
      colour.set(top[0], 2);
      stack.pop();
      path.pop();
      continue;
    }
    const next = deps[top[1]++];
    const c = colour.get(next) ?? 0;
    if (c === 1) {
      problems.push(`import cycle: ${[...path.slice(path.indexOf(next)), next].join(" -> ")}`);
    } else if (c === 0 && graph.has(next)) {
      colour.set(next, 1);
      stack.push([next, 0]);
      path.push(next);
    }
  }
}

if (problems.length) {
  for (const p of problems) console.error(p);
  Deno.exit(1);
}
console.log(`layers: ${graph.size} modules, dependencies point down, no cycles`);
