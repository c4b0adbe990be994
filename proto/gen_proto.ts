// Generates TypeScript from the protobuf definitions in proto/ (`deno task gen:proto`, also run
// by `deno task gen`):
//
//   deno task gen:proto           lint proto/ with buf, regenerate src/**/_gen/*_pb.ts
//   deno task gen:proto --check   the same into a temporary folder; exit 1 when a committed
//                                 file differs, is missing, or is left over
//
// Both tools come from npm at the versions pinned in deno.json `imports` (`@bufbuild/buf`
// ships the buf binary in a per-platform package; `@bufbuild/protoc-gen-es` is the plugin,
// run by buf through this same Deno), so a clean clone needs nothing installed but Deno.
// The output is formatted with `deno fmt` and given a "do not edit" header.

const ROOT = new URL("../", import.meta.url);
/** Where the code of each protobuf package goes (by the generated file's path prefix). */
const OUTPUTS: Record<string, string> = {
  "skiff/gossip/v1/": "src/discovery/gossip/_gen/",
};
const PLUGIN_OPTIONS = ["target=ts"];

interface Generated {
  /** Path from the project root, e.g. src/discovery/gossip/_gen/gossip_pb.ts. */
  path: string;
  text: string;
}

async function pinned(): Promise<{ buf: string; plugin: string }> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const buf = config.imports?.["@bufbuild/buf"];
  const plugin = config.imports?.["@bufbuild/protoc-gen-es"];
  if (typeof buf !== "string" || typeof plugin !== "string") {
    throw new Error(
      'deno.json imports must pin "@bufbuild/buf" and "@bufbuild/protoc-gen-es" ' +
        '(e.g. "npm:@bufbuild/buf@1.75.0"); add them and run `deno task gen` again',
    );
  }
  return { buf, plugin };
}

async function run(cmd: string, args: string[], input?: string): Promise<string> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    stdin: input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  if (input !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(input));
    await w.close();
  }
  const { code, stdout, stderr } = await child.output();
  const err = new TextDecoder().decode(stderr);
  if (code !== 0) {
    throw new Error(`\`${[cmd, ...args].join(" ")}\` failed (exit ${code}):\n${err}`);
  }
  return new TextDecoder().decode(stdout);
}

async function* walk(dir: string, prefix = ""): AsyncGenerator<string> {
  for await (const e of Deno.readDir(`${dir}/${prefix}`)) {
    if (e.isDirectory) yield* walk(dir, `${prefix}${e.name}/`);
    else yield `${prefix}${e.name}`;
  }
}

function destination(generated: string): string {
  for (const [prefix, out] of Object.entries(OUTPUTS)) {
    if (generated.startsWith(prefix)) return out + generated.slice(prefix.length);
  }
  throw new Error(
    `No output folder for ${generated}: add its package path to OUTPUTS in proto/gen_proto.ts`,
  );
}

async function generate(): Promise<Generated[]> {
  const { buf, plugin } = await pinned();
  const deno = Deno.execPath();
  const bufCli = ["run", "--allow-all", buf];
  await run(deno, [...bufCli, "lint", "proto"]);
  const tmp = await Deno.makeTempDir({ prefix: "skiff-gen-proto-" });
  try {
    const template = {
      version: "v2",
      plugins: [{
        local: [deno, "run", "--allow-read", "--allow-env", plugin],
        out: tmp,
        opt: PLUGIN_OPTIONS,
      }],
    };
    await run(deno, [...bufCli, "generate", "proto", "--template", JSON.stringify(template)]);
    const versions = `${buf.replace(/^npm:/, "")}, ${plugin.replace(/^npm:/, "")}`;
    const out: Generated[] = [];
    for await (const name of walk(tmp)) {
      const body = await Deno.readTextFile(`${tmp}/${name}`);
      const proto = name.replace(/_pb\.ts$/, ".proto");
      const header = [
        `// Generated from proto/${proto} by \`deno task gen\` (proto/gen_proto.ts): do not edit.`,
        `// ${versions} (${PLUGIN_OPTIONS.join(",")})`,
        "",
        "",
      ].join("\n");
      const text = await run(deno, ["fmt", "--ext", "ts", "-"], header + body);
      out.push({ path: destination(name), text });
    }
    return out.sort((a, b) => a.path.localeCompare(b.path));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/** Generated files in the output folders now (to find ones no longer generated). */
async function existing(): Promise<string[]> {
  const found: string[] = [];
  for (const dir of new Set(Object.values(OUTPUTS))) {
    try {
      for await (const e of Deno.readDir(new URL(dir, ROOT))) {
        if (e.isFile && e.name.endsWith("_pb.ts")) found.push(dir + e.name);
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  return found;
}

async function main(args: string[]): Promise<number> {
  const check = args.includes("--check");
  const files = await generate();
  const stale = (await existing()).filter((p) => !files.some((f) => f.path === p));
  if (check) {
    const problems: string[] = [];
    for (const f of files) {
      let committed: string | undefined;
      try {
        committed = await Deno.readTextFile(new URL(f.path, ROOT));
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
      if (committed === undefined) problems.push(`${f.path} is missing`);
      else if (committed !== f.text) problems.push(`${f.path} differs from proto/`);
    }
    for (const p of stale) problems.push(`${p} is no longer generated from proto/`);
    if (problems.length) {
      for (const p of problems) console.error(`${p}: run \`deno task gen\` and commit the result.`);
      return 1;
    }
    console.log(`${files.map((f) => f.path).join(", ")} match proto/`);
    return 0;
  }
  for (const f of files) {
    const url = new URL(f.path, ROOT);
    await Deno.mkdir(new URL(".", url), { recursive: true });
    await Deno.writeTextFile(url, f.text);
    console.log(`wrote ${f.path}`);
  }
  for (const p of stale) {
    await Deno.remove(new URL(p, ROOT));
    console.log(`removed ${p} (no longer generated)`);
  }
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    Deno.exit(1);
  }
}
