import { waitFor } from "./wait.ts";

/** skiff running as a child process. */
export interface SkiffProcess {
  child: Deno.ChildProcess;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Everything the process wrote to stdout so far. */
  stdout(): string;
  /** Sends SIGTERM and waits for exit; returns the exit code. */
  stop(): Promise<number>;
  /** Waits for the process to exit on its own (no signal); returns the exit code. */
  wait(): Promise<number>;
  /** Sends `signal` and returns at once (does nothing once the process has exited). */
  kill(signal: Deno.Signal): void;
  /** The JSON log lines written to stderr so far (other lines are left out). */
  logs(): Record<string, unknown>[];
  /**
   * Waits until a log line with message `msg` (and every field of `fields`) appears; fails
   * at once if the process exits first.
   *
   * @returns that line
   */
  waitForLog(
    msg: string,
    fields?: Record<string, unknown>,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  [Symbol.asyncDispose](): Promise<void>;
}

const root = new URL("../../", import.meta.url);

/**
 * Starts `deno run src/main.ts <args>` as a child process, with the permissions of
 * `deno task start`, and, when `readyUrl` is given, waits until it answers 200.
 */
export async function spawnSkiff(args: string[], readyUrl?: string): Promise<SkiffProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-sys",
      "--allow-run",
      "--unstable-net",
      new URL("src/main.ts", root).pathname,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
    cwd: root.pathname,
  }).spawn();
  let out = "";
  let err = "";
  const decoder = new TextDecoder();
  const drain = async (s: ReadableStream<Uint8Array>, add: (t: string) => void) => {
    for await (const c of s) add(decoder.decode(c, { stream: true }));
  };
  const drained = Promise.all([
    drain(child.stdout, (t) => out += t),
    drain(child.stderr, (t) => err += t),
  ]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const stop = async () => {
    if (!exited) {
      try {
        child.kill("SIGTERM");
      } catch { /* exited */ }
    }
    const s = await status;
    await drained;
    return s.code;
  };
  if (readyUrl) {
    try {
      await waitFor(`skiff ready at ${readyUrl}`, async () => {
        if (exited) throw new Error(`skiff exited: ${err}`);
        const r = await fetch(readyUrl);
        await r.body?.cancel();
        return r.status === 200;
      }, 20_000);
    } catch (e) {
      await stop();
      throw e;
    }
  }
  const logs = () =>
    err.split("\n").flatMap((l) => {
      if (!l.startsWith("{")) return [];
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return []; // a line still being written
      }
    });
  return {
    child,
    stderr: () => err,
    kill: (signal) => {
      if (exited) return;
      try {
        child.kill(signal);
      } catch { /* exited meanwhile */ }
    },
    logs,
    waitForLog: async (msg, fields = {}, timeoutMs = 20_000) => {
      const find = () =>
        logs().find((l) => l.msg === msg && Object.entries(fields).every(([k, v]) => l[k] === v));
      const what = `log line "${msg}" ${JSON.stringify(fields)}`;
      const found = await waitFor(what, () => find() ?? (exited ? "exited" : undefined), timeoutMs);
      if (found !== "exited") return found!;
      await drained;
      const line = find();
      if (!line) throw new Error(`skiff exited before the ${what}; stderr:\n${err}`);
      return line;
    },
    stdout: () => out,
    stop,
    wait: async () => {
      const s = await status;
      await drained;
      return s.code;
    },
    [Symbol.asyncDispose]: async () => void (await stop()),
  };
}
