// The entry of `deno task gen`: regenerates every generated file of skiff, or with --check
// verifies that the committed ones match a fresh build (exit 1 on any difference).
//
//   deno task gen            wasm/ → src/wasm/_gen/, then proto/ → src/**/_gen/*_pb.ts
//   deno task gen --check    the same in memory; exit 1 when a committed file differs
//
// A task line can only pass its arguments to its last command, so this script runs
// `deno task build:wasm` and `deno task gen:proto` itself, each with the same arguments, and
// runs both even when the first fails so that one run reports everything.

const STEPS = ["build:wasm", "gen:proto"];

async function main(args: string[]): Promise<number> {
  let failed = 0;
  for (const task of STEPS) {
    const { code } = await new Deno.Command(Deno.execPath(), {
      args: ["task", "--quiet", task, ...args],
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (code !== 0) failed++;
  }
  return failed ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
