import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("../../.ci/layers.ts", import.meta.url));

/** Writes `files` (path → source) under a fresh temporary directory and returns it. */
async function tree(files: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "skiff_layers_" });
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(dirname(join(root, path)), { recursive: true });
    await Deno.writeTextFile(join(root, path), text);
  }
  return root;
}

/** Runs the layer check on `files` as a child process. */
async function check(files: Record<string, string>) {
  const root = await tree(files);
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-lock", "--allow-read", SCRIPT, root],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** A small source tree whose imports all point down. */
const CLEAN: Record<string, string> = {
  "core/clock.ts": "export const clock = 1;\n",
  "core/mod.ts": 'export { clock } from "./clock.ts";\n',
  "config/load.ts": 'import { clock } from "../core/mod.ts";\nexport const load = clock;\n',
  "dataplane/http/router.ts": [
    "import type {",
    "  clock,",
    '} from "../../core/clock.ts";',
    'import { load } from "../../config/load.ts";',
    "export const route = load;",
  ].join("\n"),
  "dataplane/inbound/server.ts": 'import { route } from "../http/router.ts";\nexport { route };\n',
  "dataplane/outbound/client.ts": 'export * from "../http/router.ts";\n',
  "runtime/sidecar.ts": [
    'import { route } from "../dataplane/inbound/server.ts";',
    'import "../dataplane/outbound/client.ts";',
    'const lazy = () => import("../dataplane/http/router.ts");',
    "export { lazy, route };",
  ].join("\n"),
  "main.ts": 'import { route } from "./runtime/sidecar.ts";\nconsole.log(route);\n',
  // Imports in comments and strings are not imports.
  "core/ids.ts": [
    "/**",
    " * @example",
    " * ```ts",
    ' * import { route } from "../dataplane/http/router.ts";',
    " * ```",
    " */",
    "export const doc = \"import x from '../main.ts'\";",
  ].join("\n"),
};

Deno.test("layers: a tree whose imports point down passes", async () => {
  const r = await check(CLEAN);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /layers: 9 modules, dependencies point down, no cycles/);
  assert.equal(r.stderr, "");
});

Deno.test("layers: an upward import fails and names both files", async () => {
  const r = await check({
    ...CLEAN,
    "core/clock.ts": 'import { load } from "../config/load.ts";\nexport const clock = load;\n',
  });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /core\/clock\.ts imports config\/load\.ts: a lower layer must not/);
});

Deno.test("layers: upward imports are found in every import form", async () => {
  const forms = [
    'import { route } from "../dataplane/http/router.ts";',
    'import type { route } from "../dataplane/http/router.ts";',
    'import {\n  route,\n} from "../dataplane/http/router.ts";',
    'export { route } from "../dataplane/http/router.ts";',
    'export * from "../dataplane/http/router.ts";',
    "const m = await import('../dataplane/http/router.ts');",
    'import "../dataplane/http/router.ts";',
  ];
  for (const form of forms) {
    const r = await check({ ...CLEAN, "config/extra.ts": form + "\nexport const x = 1;\n" });
    assert.equal(r.code, 1, `not caught: ${form}`);
    assert.match(r.stderr, /config\/extra\.ts imports dataplane\/http\/router\.ts/, form);
  }
});

Deno.test("layers: inbound and outbound must not import each other", async () => {
  const inToOut = await check({
    ...CLEAN,
    "dataplane/inbound/server.ts": 'import { x } from "../outbound/client.ts";\nexport { x };\n',
  });
  assert.equal(inToOut.code, 1);
  assert.match(
    inToOut.stderr,
    /dataplane\/inbound\/server\.ts imports dataplane\/outbound\/client\.ts: inbound and outbound/,
  );
  const outToIn = await check({
    ...CLEAN,
    "dataplane/outbound/client.ts": 'export * from "../inbound/server.ts";\n',
  });
  assert.equal(outToIn.code, 1);
  assert.match(outToIn.stderr, /dataplane\/outbound\/client\.ts imports dataplane\/inbound/);
});

Deno.test("layers: an import cycle fails and shows the cycle", async () => {
  const r = await check({
    ...CLEAN,
    "dataplane/http/a.ts": 'import { b } from "./b.ts";\nexport const a = b;\n',
    "dataplane/http/b.ts": 'import { c } from "../pool/c.ts";\nexport const b = c;\n',
    "dataplane/pool/c.ts": 'import { a } from "../http/a.ts";\nexport const c = a;\n',
  });
  assert.equal(r.code, 1);
  const cycle = r.stderr.split("\n").find((l) => l.startsWith("import cycle:"));
  assert.ok(cycle, r.stderr);
  for (const f of ["dataplane/http/a.ts", "dataplane/http/b.ts", "dataplane/pool/c.ts"]) {
    assert.ok(cycle.includes(f), `${f} missing from: ${cycle}`);
  }
  // The line reads as a closed path: it ends where it starts.
  const files = cycle.slice("import cycle: ".length).split(" -> ");
  assert.equal(files[0], files.at(-1));
  assert.equal(files.length, 4);
});

Deno.test("layers: a file importing itself is a cycle", async () => {
  const r = await check({ ...CLEAN, "core/self.ts": 'export * from "./self.ts";\n' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /import cycle: core\/self\.ts -> core\/self\.ts/);
});
