// The real `promtool check metrics` (Prometheus), for tests of the exposition format.

/** Whether `promtool` is on PATH (Debian package prometheus). */
export async function promtoolInstalled(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("promtool", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/**
 * Writes `text` to a temp file and feeds that file to `promtool check metrics`.
 *
 * @returns the exit code and everything promtool printed
 */
export async function promtoolCheck(text: string): Promise<{ code: number; output: string }> {
  const path = await Deno.makeTempFile({ prefix: "skiff_metrics_", suffix: ".prom" });
  try {
    await Deno.writeTextFile(path, text);
    using file = await Deno.open(path, { read: true });
    const child = new Deno.Command("promtool", {
      args: ["check", "metrics"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    await file.readable.pipeTo(child.stdin);
    const { code, stdout, stderr } = await child.output();
    const dec = new TextDecoder();
    return { code, output: (dec.decode(stdout) + dec.decode(stderr)).trim() };
  } finally {
    await Deno.remove(path);
  }
}
